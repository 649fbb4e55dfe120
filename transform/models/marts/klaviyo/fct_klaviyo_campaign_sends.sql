{# One row per message a campaign sent to a profile: the campaign's "Received ..." events. #}
select
    events.event_key as send_key,
    events.campaign_key,
    events.profile_key,
    campaigns.channel,
    events.occurred_at as sent_at
from {{ ref('fct_klaviyo_events') }} as events
inner join {{ ref('dim_klaviyo_campaigns') }} as campaigns on events.campaign_key = campaigns.campaign_key
where events.engagement_type = 'send'
