with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'flows'), ['id']) }}
),

renamed as (
    select
        id as flow_id,
        name as flow_name,
        status,
        trigger_type,
        archived as is_archived,
        created as created_at,
        updated as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
