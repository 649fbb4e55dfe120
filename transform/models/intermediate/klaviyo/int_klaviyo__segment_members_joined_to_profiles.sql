with members as (
    select * from {{ ref('stg_klaviyo__segment_members') }}
),

profiles as (
    select * from {{ ref('stg_klaviyo__profiles') }}
),

joined as (
    select
        members.segment_id,
        members.profile_id,
        members.joined_at,
        profiles.email_normalized,
        profiles.phone_number
    from members
    inner join profiles on members.profile_id = profiles.profile_id
)

select * from joined
