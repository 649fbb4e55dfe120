with campaign_messages as (
    select * from {{ ref('stg_klaviyo__campaign_messages') }}
),

campaigns as (
    select * from {{ ref('stg_klaviyo__campaigns') }}
),

joined as (
    select
        campaign_messages.campaign_message_id,
        campaign_messages.template_id,
        campaign_messages.subject,
        campaign_messages.preview_text,
        campaign_messages.from_email,
        campaign_messages.body,
        campaign_messages.title,
        campaigns.*
    from campaign_messages
    inner join campaigns on campaign_messages.campaign_id = campaigns.campaign_id
)

select * from joined
