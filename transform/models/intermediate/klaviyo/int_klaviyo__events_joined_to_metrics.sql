{#
    Events with their metric and, for events a campaign message caused, that message's
    campaign; each event classified by the kind of engagement its metric records.
#}
{% set engagement = var('klaviyo_engagement_metrics') %}

with events as (
    select * from {{ ref('stg_klaviyo__events') }}
),

metrics as (
    select * from {{ ref('stg_klaviyo__metrics') }}
),

campaign_messages as (
    select * from {{ ref('stg_klaviyo__campaign_messages') }}
),

joined as (
    select
        events.*,
        metrics.metric_name,
        metrics.integration_name,
        campaign_messages.campaign_id,
        case
            {%- for kind, names in engagement.items() %}
            when metrics.metric_name in ({% for name in names %}'{{ name }}'{% if not loop.last %}, {% endif %}{% endfor %}) then '{{ kind }}'
            {%- endfor %}
            else 'other'
        end as engagement_type
    from events
    left join metrics on events.metric_id = metrics.metric_id
    left join campaign_messages on events.message_id = campaign_messages.campaign_message_id
)

select * from joined
