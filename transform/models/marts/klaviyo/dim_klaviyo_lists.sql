with lists as (
    select * from {{ ref('stg_klaviyo__lists') }}
),

members as (
    select list_id, count(*) as member_count
    from {{ ref('int_klaviyo__list_members_joined_to_profiles') }}
    group by 1
)

select
    {{ surrogate_key(['lists.list_id']) }} as list_key,
    lists.list_id,
    lists.list_name,
    lists.opt_in_process,
    coalesce(members.member_count, 0) as member_count,
    lists.created_at,
    lists.updated_at
from lists
left join members on lists.list_id = members.list_id
