with source as (
    {{ latest_row(source_or_empty('tap_pinterest_ads', 'ad_analytics'), ['ad_id', 'date']) }}
),

renamed as (
    select
        ---------- ids
        ad_id,
        ad_account_id,
        date as report_date,

        ---------- delivery
        paid_impression as paid_impressions,
        total_impression as total_impressions,
        total_clickthrough as clicks,

        ---------- conversions (restated by Pinterest for weeks)
        total_conversions as conversions,
        total_checkout as checkouts,

        ---------- money (micro-units of the account's currency)
        (spend_in_micro_dollar::numeric / 1000000)::numeric(18, 6) as spend,
        (total_checkout_value_in_micro_dollar::numeric / 1000000)::numeric(18, 6) as checkout_value,

        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
