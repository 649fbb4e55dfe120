with source as (
    {{ latest_row(source_or_empty('tap_shopify', 'products'), ['id']) }}
),

renamed as (
    select
        id as product_id,
        title as product_title,
        handle,
        vendor,
        product_type,
        status as product_status,
        tags,
        coalesce(jsonb_array_length(variants), 0) as variant_count,
        created_at,
        updated_at,
        published_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
