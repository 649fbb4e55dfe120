{# Subtasks counted per request add up to the subtasks fact: none lost or counted twice. #}
with counted as (
    select request_key, subtask_count, completed_subtask_count, overdue_subtask_count
    from {{ ref('fct_onetrust_dsar_requests') }}
),

subtasks as (
    select
        request_key,
        count(*) as subtask_count,
        count(*) filter (where is_completed) as completed_subtask_count
    from {{ ref('fct_onetrust_dsar_subtasks') }}
    group by 1
)

select counted.request_key, counted.subtask_count, subtasks.subtask_count as in_subtasks
from counted
left join subtasks on counted.request_key = subtasks.request_key
where counted.subtask_count <> coalesce(subtasks.subtask_count, 0)
   or counted.completed_subtask_count <> coalesce(subtasks.completed_subtask_count, 0)
   or counted.overdue_subtask_count > counted.subtask_count - counted.completed_subtask_count
