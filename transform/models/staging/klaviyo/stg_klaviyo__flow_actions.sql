with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'flow_actions'), ['id']) }}
),

renamed as (
    select
        id as flow_action_id,
        flow_id,
        definition ->> 'type' as action_type,
        definition -> 'data' ->> 'status' as action_status,
        definition,
        created as created_at,
        updated as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
