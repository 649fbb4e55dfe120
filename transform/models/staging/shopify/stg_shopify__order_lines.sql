{# One row per line item, unnested from the current row of each order. #}
with orders as (
    {{ latest_row(source_or_empty('tap_shopify', 'orders'), ['id']) }}
),

lines as (
    select
        orders.id as order_id,
        line.item as line_item,
        line.position as line_number
    from orders
    cross join lateral jsonb_array_elements(orders.line_items) with ordinality as line (item, position)
),

renamed as (
    select
        (line_item ->> 'id')::bigint as order_line_id,
        order_id,
        line_number,
        (line_item ->> 'product_id')::bigint as product_id,
        (line_item ->> 'variant_id')::bigint as variant_id,
        line_item ->> 'title' as product_title,
        line_item ->> 'variant_title' as variant_title,
        line_item ->> 'sku' as sku,
        (line_item ->> 'quantity')::integer as quantity,
        (line_item ->> 'price')::numeric(14, 2) as unit_price,
        (line_item ->> 'quantity')::integer * (line_item ->> 'price')::numeric(14, 2) as line_total
    from lines
)

select * from renamed
