{# One row per customer, with order totals recounted from the orders themselves. #}
with customers as (
    select * from {{ ref('stg_shopify__customers') }}
),

orders as (
    select
        customer_id,
        count(*) as order_count,
        count(*) filter (where order_status <> 'cancelled') as completed_order_count,
        sum(net_revenue) as lifetime_revenue,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at
    from {{ ref('fct_shopify_orders') }}
    where customer_id is not null
    group by 1
),

final as (
    select
        {{ surrogate_key(['customers.customer_id']) }} as customer_key,
        customers.customer_id,
        customers.email,
        customers.email_normalized,
        customers.first_name,
        customers.last_name,
        customers.account_state,
        customers.is_email_verified,
        coalesce(orders.order_count, 0) as order_count,
        coalesce(orders.completed_order_count, 0) as completed_order_count,
        coalesce(orders.lifetime_revenue, 0) as lifetime_revenue,
        orders.first_order_at,
        orders.last_order_at,
        customers.created_at,
        customers.updated_at
    from customers
    left join orders on customers.customer_id = orders.customer_id
)

select * from final
