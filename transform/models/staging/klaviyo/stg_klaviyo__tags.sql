with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'tags'), ['id']) }}
),

renamed as (
    select
        id as tag_id,
        name as tag_name,
        tag_group_id,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
