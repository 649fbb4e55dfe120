with campaigns as (
    select * from {{ ref('stg_klaviyo__campaigns') }}
),

messages as (
    select
        campaign_id,
        count(*) as message_count,
        min(subject) as subject,
        min(template_id) as template_id
    from {{ ref('int_klaviyo__campaign_messages_joined_to_campaigns') }}
    group by 1
),

final as (
    select
        {{ surrogate_key(['campaigns.campaign_id']) }} as campaign_key,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.channel,
        campaigns.status,
        campaigns.is_archived,
        campaigns.send_strategy,
        messages.subject,
        messages.template_id,
        coalesce(messages.message_count, 0) as message_count,
        campaigns.created_at,
        campaigns.scheduled_at,
        campaigns.sent_at,
        campaigns.updated_at
    from campaigns
    left join messages on campaigns.campaign_id = messages.campaign_id
)

select * from final
