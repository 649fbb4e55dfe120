with source as (
    {{ latest_row(source_or_empty('tap_pinterest_ads', 'ad_groups'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as ad_group_id,
        campaign_id,
        ad_account_id,

        ---------- the ad group
        name as ad_group_name,
        status,
        status = 'ARCHIVED' as is_archived,
        summary_status,
        billable_event,
        bid_strategy_type,
        pacing_delivery_type,
        placement_group,
        auto_targeting_enabled as is_auto_targeting_enabled,
        targeting_spec,

        ---------- money (micro-units of the account's currency)
        budget_type,
        (budget_in_micro_currency::numeric / 1000000)::numeric(18, 6) as budget,
        (bid_in_micro_currency::numeric / 1000000)::numeric(18, 6) as bid,

        ---------- timestamps (the API's Unix seconds)
        to_timestamp(start_time) as starts_at,
        to_timestamp(end_time) as ends_at,
        to_timestamp(created_time) as created_at,
        to_timestamp(updated_time) as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
