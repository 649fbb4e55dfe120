{# The marketing mart holds every non-test, non-cancelled order and all their net revenue. #}
with orders as (
    select
        count(*) filter (where order_status <> 'cancelled') as orders,
        coalesce(sum(net_revenue), 0) as revenue
    from {{ ref('fct_shopify_orders') }}
    where not coalesce(is_test, false)
),

in_mart as (
    select coalesce(sum(shopify_order_count), 0) as orders, coalesce(sum(shopify_revenue), 0) as revenue
    from {{ ref('fct_marketing_daily') }}
)

select * from orders, in_mart
where orders.orders <> in_mart.orders or orders.revenue <> in_mart.revenue
