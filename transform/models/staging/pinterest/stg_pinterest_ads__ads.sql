with source as (
    {{ latest_row(source_or_empty('tap_pinterest_ads', 'ads'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as ad_id,
        ad_group_id,
        campaign_id,
        ad_account_id,
        pin_id,

        ---------- the ad
        name as ad_name,
        status,
        status = 'ARCHIVED' as is_archived,
        summary_status,
        review_status,
        creative_type,
        destination_url,
        is_pin_deleted,

        ---------- timestamps (the API's Unix seconds)
        to_timestamp(created_time) as created_at,
        to_timestamp(updated_time) as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
