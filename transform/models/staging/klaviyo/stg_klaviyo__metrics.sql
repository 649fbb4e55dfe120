with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'metrics'), ['id']) }}
),

renamed as (
    select
        id as metric_id,
        name as metric_name,
        integration ->> 'name' as integration_name,
        integration ->> 'category' as integration_category,
        -- the API types these as plain strings; they hold ISO 8601 instants
        cast(created as timestamptz) as created_at,
        cast(updated as timestamptz) as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
