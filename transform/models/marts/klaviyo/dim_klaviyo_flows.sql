with flows as (
    select * from {{ ref('stg_klaviyo__flows') }}
),

actions as (
    select flow_id, count(*) as action_count
    from {{ ref('stg_klaviyo__flow_actions') }}
    group by 1
)

select
    {{ surrogate_key(['flows.flow_id']) }} as flow_key,
    flows.flow_id,
    flows.flow_name,
    flows.status,
    flows.trigger_type,
    flows.is_archived,
    coalesce(actions.action_count, 0) as action_count,
    flows.created_at,
    flows.updated_at
from flows
left join actions on flows.flow_id = actions.flow_id
