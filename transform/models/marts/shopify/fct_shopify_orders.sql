{#
    One row per order. `net_revenue` is what the order is worth now: its total less refunds,
    and nothing once cancelled. The email is the order's, or its customer's when the order has
    none, normalised for joining with other sources.
#}
with orders as (
    select * from {{ ref('stg_shopify__orders') }}
),

customers as (
    select customer_id, email_normalized from {{ ref('stg_shopify__customers') }}
),

payments as (
    select * from {{ ref('int_shopify__order_payments') }}
),

lines as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as item_quantity
    from {{ ref('stg_shopify__order_lines') }}
    group by 1
),

final as (
    select
        {{ surrogate_key(['orders.order_id']) }} as order_key,
        orders.order_id,
        orders.order_name,
        orders.customer_id,
        coalesce(orders.email_normalized, customers.email_normalized) as email_normalized,
        orders.order_status,
        orders.financial_status,
        orders.fulfillment_status,
        orders.source_name,
        orders.is_test,
        orders.currency,
        orders.subtotal_price,
        orders.total_discounts,
        orders.total_tax,
        orders.total_price,
        coalesce(lines.line_count, 0) as line_count,
        coalesce(lines.item_quantity, 0) as item_quantity,
        coalesce(payments.paid_amount, 0) as paid_amount,
        coalesce(payments.refunded_amount, 0) as refunded_amount,
        case
            when orders.order_status = 'cancelled' then 0
            else orders.total_price - coalesce(payments.refunded_amount, 0)
        end as net_revenue,
        orders.created_at,
        orders.processed_at,
        orders.closed_at,
        orders.cancelled_at,
        orders.updated_at
    from orders
    left join customers on orders.customer_id = customers.customer_id
    left join payments on orders.order_id = payments.order_id
    left join lines on orders.order_id = lines.order_id
)

select * from final
