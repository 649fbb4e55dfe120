-- Sends per campaign in the engagement mart equal a count made straight from the staged events.
{% set send_metrics = var('klaviyo_engagement_metrics')['send'] %}
with from_events as (
    select messages.campaign_id, count(*) as sends
    from {{ ref('stg_klaviyo__events') }} as events
    inner join {{ ref('stg_klaviyo__metrics') }} as metrics on events.metric_id = metrics.metric_id
    inner join {{ ref('stg_klaviyo__campaign_messages') }} as messages on events.message_id = messages.campaign_message_id
    where metrics.metric_name in ({% for name in send_metrics %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %})
    group by 1
),

from_mart as (
    select campaigns.campaign_id, engagement.sends
    from {{ ref('fct_klaviyo_campaign_engagement') }} as engagement
    inner join {{ ref('dim_klaviyo_campaigns') }} as campaigns on engagement.campaign_key = campaigns.campaign_key
)

select
    coalesce(from_events.campaign_id, from_mart.campaign_id) as campaign_id,
    from_events.sends as sends_in_events,
    from_mart.sends as sends_in_mart
from from_events
full outer join from_mart on from_events.campaign_id = from_mart.campaign_id
where coalesce(from_events.sends, 0) <> coalesce(from_mart.sends, 0)
