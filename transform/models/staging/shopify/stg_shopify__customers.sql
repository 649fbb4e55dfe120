with source as (
    {{ latest_row(source_or_empty('tap_shopify', 'customers'), ['id']) }}
),

renamed as (
    select
        id as customer_id,

        ---------- contact
        email,
        lower(trim(email)) as email_normalized,
        first_name,
        last_name,
        phone,

        ---------- account
        state as account_state,
        verified_email as is_email_verified,
        tax_exempt as is_tax_exempt,
        tags,
        currency,

        ---------- Shopify's own tallies (the marts recount from orders)
        orders_count as shopify_orders_count,
        total_spent::numeric(14, 2) as shopify_total_spent,
        last_order_id,

        ---------- timestamps
        created_at,
        updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
