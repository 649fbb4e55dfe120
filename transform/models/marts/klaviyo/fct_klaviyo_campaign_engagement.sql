{# One row per campaign: what its messages caused, counted from events. #}
with engagement as (
    select
        campaign_key,
        count(*) filter (where engagement_type = 'send') as sends,
        count(distinct profile_key) filter (where engagement_type = 'send') as recipients,
        count(*) filter (where engagement_type = 'open') as opens,
        count(distinct profile_key) filter (where engagement_type = 'open') as unique_opens,
        count(*) filter (where engagement_type = 'click') as clicks,
        count(distinct profile_key) filter (where engagement_type = 'click') as unique_clicks,
        count(*) filter (where engagement_type = 'bounce') as bounces,
        count(*) filter (where engagement_type = 'unsubscribe') as unsubscribes
    from {{ ref('fct_klaviyo_events') }}
    where campaign_key is not null
    group by 1
)

select
    campaigns.campaign_key,
    campaigns.channel,
    campaigns.sent_at,
    coalesce(engagement.sends, 0) as sends,
    coalesce(engagement.recipients, 0) as recipients,
    coalesce(engagement.opens, 0) as opens,
    coalesce(engagement.unique_opens, 0) as unique_opens,
    coalesce(engagement.clicks, 0) as clicks,
    coalesce(engagement.unique_clicks, 0) as unique_clicks,
    coalesce(engagement.bounces, 0) as bounces,
    coalesce(engagement.unsubscribes, 0) as unsubscribes,
    round(engagement.unique_opens::numeric / nullif(engagement.recipients, 0), 4) as open_rate,
    round(engagement.unique_clicks::numeric / nullif(engagement.recipients, 0), 4) as click_rate
from {{ ref('dim_klaviyo_campaigns') }} as campaigns
left join engagement on campaigns.campaign_key = engagement.campaign_key
