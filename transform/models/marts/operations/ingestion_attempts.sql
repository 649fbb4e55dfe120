{# One row per attempt of an Airflow task: its start joined to how it ended (if it has). #}
with log as (
    select * from {{ ref('stg_ops__ingestion_log') }}
),

starts as (
    select * from log where event = 'start'
),

ends as (
    select * from log where event in ('success', 'error')
)

select
    starts.dag_id || '/' || starts.run_id || '/' || starts.task_id || '/' || starts.try_number as attempt_id,
    starts.source,
    starts.stream_group,
    starts.dag_id,
    starts.task_id,
    starts.run_id,
    starts.try_number,
    coalesce(ends.event, 'running') as status,
    starts.logged_at as started_at,
    ends.logged_at as ended_at,
    ends.rows,
    ends.duration_seconds,
    ends.error
from starts
left join ends
    on ends.dag_id = starts.dag_id
    and ends.run_id = starts.run_id
    and ends.task_id = starts.task_id
    and ends.try_number = starts.try_number
