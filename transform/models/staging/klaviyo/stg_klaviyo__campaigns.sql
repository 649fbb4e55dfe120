with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'campaigns'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as campaign_id,

        ---------- attributes
        name as campaign_name,
        channel,
        status,
        archived as is_archived,
        send_strategy ->> 'method' as send_strategy,
        coalesce((send_options ->> 'use_smart_sending')::boolean, false) as uses_smart_sending,

        ---------- json
        audiences,
        tracking_options,

        ---------- timestamps
        created_at,
        updated_at,
        scheduled_at,
        send_time as sent_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
