with segments as (
    select * from {{ ref('stg_klaviyo__segments') }}
),

members as (
    select segment_id, count(*) as member_count
    from {{ ref('int_klaviyo__segment_members_joined_to_profiles') }}
    group by 1
)

select
    {{ surrogate_key(['segments.segment_id']) }} as segment_key,
    segments.segment_id,
    segments.segment_name,
    segments.is_active,
    segments.is_starred,
    coalesce(members.member_count, 0) as member_count,
    segments.created_at,
    segments.updated_at
from segments
left join members on segments.segment_id = members.segment_id
