{# One row per subtask, with its request's status and deadline, and whether it is overdue. #}
with subtasks as (
    select * from {{ ref('stg_onetrust__dsar_subtasks') }}
),

requests as (
    select request_id, request_ref_id, status, deadline_at, completed_at
    from {{ ref('stg_onetrust__dsar_requests') }}
),

measured as (
    select current_timestamp as measured_at
),

final as (
    select
        {{ surrogate_key(['subtasks.subtask_id']) }} as subtask_key,
        subtasks.subtask_id,
        {{ surrogate_key(['requests.request_id']) }} as request_key,
        subtasks.request_ref_id,
        subtasks.subtask_name,
        subtasks.subtask_type,
        subtasks.assignee,
        subtasks.is_required,
        subtasks.subtask_status,
        subtasks.is_completed,
        coalesce(not subtasks.is_completed and subtasks.deadline_at < measured.measured_at, false) as is_overdue,
        subtasks.created_at,
        subtasks.deadline_at,
        subtasks.updated_at,
        requests.status as request_status,
        requests.completed_at is not null as is_request_closed,
        requests.deadline_at as request_deadline_at,
        measured.measured_at
    from subtasks
    inner join requests on subtasks.request_ref_id = requests.request_ref_id
    cross join measured
)

select * from final
