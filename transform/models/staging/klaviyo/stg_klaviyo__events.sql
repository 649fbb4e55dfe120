with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'events'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as event_id,
        uuid as event_uuid,
        metric_id,
        profile_id,
        event_properties ->> '$message' as message_id,
        event_properties ->> '$flow' as flow_id,

        ---------- numerics
        case
            when jsonb_typeof(event_properties -> '$value') = 'number'
                then (event_properties ->> '$value')::numeric
        end as value,

        ---------- json
        event_properties,

        ---------- timestamps
        datetime as occurred_at,
        "timestamp" as occurred_at_epoch,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
