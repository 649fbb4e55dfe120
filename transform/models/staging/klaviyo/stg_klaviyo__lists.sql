with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'lists'), ['id']) }}
),

renamed as (
    select
        id as list_id,
        name as list_name,
        opt_in_process,
        created as created_at,
        updated as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
