with profiles as (
    select * from {{ ref('stg_klaviyo__profiles') }}
),

activity as (
    select
        profile_id,
        count(*) as event_count,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at
    from {{ ref('int_klaviyo__events_joined_to_metrics') }}
    group by 1
),

final as (
    select
        {{ surrogate_key(['profiles.profile_id']) }} as profile_key,
        profiles.profile_id,
        profiles.external_id,
        profiles.email,
        profiles.email_normalized,
        profiles.phone_number,
        profiles.first_name,
        profiles.last_name,
        profiles.organization,
        profiles.locale,
        profiles.city,
        profiles.region,
        profiles.country,
        profiles.properties,
        coalesce(activity.event_count, 0) as event_count,
        activity.first_event_at,
        activity.last_event_at,
        profiles.created_at,
        profiles.updated_at
    from profiles
    left join activity on profiles.profile_id = activity.profile_id
)

select * from final
