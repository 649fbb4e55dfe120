with source as (
    {{ latest_row(source_or_empty('tap_shopify', 'orders'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as order_id,
        (customer ->> 'id')::bigint as customer_id,
        name as order_name,
        order_number,

        ---------- contact
        email,
        lower(trim(email)) as email_normalized,

        ---------- status
        case
            when cancelled_at is not null then 'cancelled'
            when closed_at is not null then 'closed'
            else 'open'
        end as order_status,
        financial_status,
        fulfillment_status,
        cancel_reason,
        test as is_test,
        source_name,
        tags,
        note,

        ---------- money (Shopify sends strings)
        currency,
        subtotal_price::numeric(14, 2) as subtotal_price,
        total_discounts::numeric(14, 2) as total_discounts,
        total_tax::numeric(14, 2) as total_tax,
        total_price::numeric(14, 2) as total_price,

        ---------- timestamps
        created_at,
        processed_at,
        updated_at,
        closed_at,
        cancelled_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
