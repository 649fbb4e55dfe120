{# Line items with their order's date and status and their product's vendor and type. #}
with lines as (
    select * from {{ ref('stg_shopify__order_lines') }}
),

orders as (
    select order_id, created_at, order_status from {{ ref('stg_shopify__orders') }}
),

products as (
    select product_id, vendor, product_type from {{ ref('stg_shopify__products') }}
),

joined as (
    select
        lines.*,
        orders.created_at as ordered_at,
        orders.order_status,
        products.vendor,
        products.product_type
    from lines
    inner join orders on lines.order_id = orders.order_id
    left join products on lines.product_id = products.product_id
)

select * from joined
