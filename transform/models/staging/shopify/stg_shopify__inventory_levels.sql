with source as (
    {{ latest_row(source_or_empty('tap_shopify', 'inventory_levels'), ['inventory_item_id', 'location_id']) }}
),

renamed as (
    select
        inventory_item_id,
        location_id,
        available as available_quantity,
        updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
