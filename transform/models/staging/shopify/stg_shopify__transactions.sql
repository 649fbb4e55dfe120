with source as (
    {{ latest_row(source_or_empty('tap_shopify', 'transactions'), ['id']) }}
),

renamed as (
    select
        id as transaction_id,
        order_id,
        parent_id as parent_transaction_id,
        kind,
        status,
        gateway,
        source_name,
        test as is_test,
        currency,
        amount::numeric(14, 2) as amount,
        created_at,
        processed_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
