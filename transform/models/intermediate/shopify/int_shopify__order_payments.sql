{# One row per order with transactions: what was paid and what was refunded, successful ones only. #}
with transactions as (
    select * from {{ ref('stg_shopify__transactions') }}
    where status = 'success'
),

per_order as (
    select
        order_id,
        count(*) as transaction_count,
        coalesce(sum(amount) filter (where kind in ('sale', 'capture')), 0) as paid_amount,
        coalesce(sum(amount) filter (where kind = 'refund'), 0) as refunded_amount,
        max(processed_at) as last_transaction_at
    from transactions
    group by 1
)

select * from per_order
