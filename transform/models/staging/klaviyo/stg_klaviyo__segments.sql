with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'segments'), ['id']) }}
),

renamed as (
    select
        id as segment_id,
        name as segment_name,
        is_active,
        is_processing,
        is_starred,
        definition,
        created as created_at,
        updated as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
