{# The cross-source mart neither drops nor double-counts orders or revenue that carry an email. #}
with by_email as (
    select count(*) as orders, coalesce(sum(net_revenue), 0) as revenue
    from {{ ref('fct_shopify_orders') }}
    where email_normalized is not null
),

in_mart as (
    select coalesce(sum(order_count), 0) as orders, coalesce(sum(lifetime_revenue), 0) as revenue
    from {{ ref('customers') }}
)

select * from by_email, in_mart
where by_email.orders <> in_mart.orders or by_email.revenue <> in_mart.revenue
