with source as (
    {{ latest_row(source_or_empty('tap_pinterest_ads', 'campaigns'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as campaign_id,
        ad_account_id,

        ---------- the campaign
        name as campaign_name,
        status,
        status = 'ARCHIVED' as is_archived,
        summary_status,
        objective_type,
        is_campaign_budget_optimization,

        ---------- money (micro-units of the account's currency)
        (daily_spend_cap::numeric / 1000000)::numeric(18, 6) as daily_spend_cap,
        (lifetime_spend_cap::numeric / 1000000)::numeric(18, 6) as lifetime_spend_cap,

        ---------- timestamps (the API's Unix seconds)
        to_timestamp(start_time) as starts_at,
        to_timestamp(end_time) as ends_at,
        to_timestamp(created_time) as created_at,
        to_timestamp(updated_time) as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
