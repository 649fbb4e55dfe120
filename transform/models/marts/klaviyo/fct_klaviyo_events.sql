{{
    config(
        materialized='incremental',
        unique_key='event_key',
        incremental_strategy='delete+insert',
        post_hook="delete from {{ this }} as fact where not exists (
            select from {{ ref('stg_klaviyo__events') }} as staged where staged.event_id = fact.event_id
        )",
    )
}}
{#
    Incremental on `occurred_at`, re-reading `klaviyo_events_lookback_minutes` (the tap's
    lookback) behind the newest event already here, so late events the tap picked up are
    merged. Rows loaded since the last build are taken too, whatever their date: a backfill
    or a rewound bookmark loads old events, and they must not wait for a full refresh.
    An incremental build only adds and replaces rows, so the post-hook removes the events
    staging no longer has (the loader marked them deleted), whenever they occurred.
#}
-- depends_on: {{ ref('stg_klaviyo__events') }}
with events as (
    select * from {{ ref('int_klaviyo__events_joined_to_metrics') }}
    {% if is_incremental() %}
    where occurred_at >= (
            select max(occurred_at) - interval '{{ var("klaviyo_events_lookback_minutes") }} minutes' from {{ this }}
        )
        or loaded_at > (select max(loaded_at) from {{ this }})
    {% endif %}
)

select
    {{ surrogate_key(['event_id']) }} as event_key,
    event_id,
    {{ surrogate_key(['metric_id']) }} as metric_key,
    {{ surrogate_key(['profile_id']) }} as profile_key,
    case when campaign_id is not null then {{ surrogate_key(['campaign_id']) }} end as campaign_key,
    case when flow_id is not null then {{ surrogate_key(['flow_id']) }} end as flow_key,
    metric_name,
    engagement_type,
    value,
    occurred_at,
    loaded_at
from events
