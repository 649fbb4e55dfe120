{# One row per order line, with the product's vendor and type and the order's date. #}
select
    {{ surrogate_key(['order_line_id']) }} as order_line_key,
    order_line_id,
    {{ surrogate_key(['order_id']) }} as order_key,
    order_id,
    line_number,
    product_id,
    variant_id,
    product_title,
    variant_title,
    sku,
    vendor,
    product_type,
    quantity,
    unit_price,
    line_total,
    order_status = 'cancelled' as is_cancelled,
    ordered_at
from {{ ref('int_shopify__order_lines_joined_to_products') }}
