{# One row per variant, unnested from the current row of each product. #}
with products as (
    {{ latest_row(source_or_empty('tap_shopify', 'products'), ['id']) }}
),

variants as (
    select products.id as product_id, variant
    from products
    cross join lateral jsonb_array_elements(products.variants) as variant
),

renamed as (
    select
        (variant ->> 'id')::bigint as variant_id,
        product_id,
        (variant ->> 'inventory_item_id')::bigint as inventory_item_id,
        variant ->> 'title' as variant_title,
        variant ->> 'sku' as sku,
        (variant ->> 'position')::integer as position,
        (variant ->> 'price')::numeric(14, 2) as price,
        (variant ->> 'updated_at')::timestamptz as updated_at
    from variants
)

select * from renamed
