with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'profiles'), ['id']) }}
),

renamed as (
    select
        ---------- ids
        id as profile_id,
        external_id,

        ---------- contact
        email,
        lower(trim(email)) as email_normalized,
        phone_number,
        first_name,
        last_name,
        organization,
        title,
        locale,
        image as image_url,
        location ->> 'city' as city,
        location ->> 'region' as region,
        location ->> 'country' as country,

        ---------- json
        location,
        properties,
        subscriptions,
        predictive_analytics,

        ---------- timestamps
        created as created_at,
        updated as updated_at,
        last_event_date as last_event_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
