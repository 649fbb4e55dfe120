with source as (
    {{ latest_row(source_or_empty('tap_pinterest_ads', 'ad_accounts'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as ad_account_id,

        ---------- the account
        name as ad_account_name,
        country as country_code,
        currency,
        owner ->> 'id' as owner_user_id,
        owner ->> 'username' as owner_username,

        ---------- timestamps (the API's Unix seconds)
        to_timestamp(created_time) as created_at,
        to_timestamp(updated_time) as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
