{#
    The DSAR SLA view: one row per request, how long it took (or has been open) and whether it
    was answered by its deadline. A request counts as answered once OneTrust stamps
    `completed_at` (completed or rejected); open ones are aged as of `measured_at`.
#}
with requests as (
    select * from {{ ref('stg_onetrust__dsar_requests') }}
),

measured as (
    select current_timestamp as measured_at
),

subtasks as (
    select
        subtasks.request_ref_id,
        count(*) as subtask_count,
        count(*) filter (where subtasks.is_completed) as completed_subtask_count,
        count(*) filter (where not subtasks.is_completed) as open_subtask_count,
        count(*) filter (
            where not subtasks.is_completed and subtasks.deadline_at < measured.measured_at
        ) as overdue_subtask_count
    from {{ ref('stg_onetrust__dsar_subtasks') }} as subtasks
    cross join measured
    group by 1
),

aged as (
    select
        requests.*,
        measured.measured_at,
        -- whole days elapsed, as privacy teams count them against the deadline
        floor(
            extract(epoch from coalesce(requests.completed_at, measured.measured_at) - requests.created_at) / 86400
        )::integer as days_open
    from requests
    cross join measured
),

final as (
    select
        {{ surrogate_key(['aged.request_id']) }} as request_key,
        aged.request_id,
        aged.request_ref_id,
        aged.status,
        aged.request_types,
        aged.subject_types,
        aged.resolution,
        aged.approver,
        aged.language,
        aged.country_code,
        aged.is_extended,
        aged.completed_at is not null as is_closed,
        case
            when aged.deadline_at is null then 'no_deadline'
            when aged.completed_at is not null and aged.completed_at <= aged.deadline_at then 'completed_on_time'
            when aged.completed_at is not null then 'completed_late'
            when aged.measured_at > aged.deadline_at then 'open_overdue'
            else 'open_on_time'
        end as sla_status,
        case
            when aged.completed_at is not null then aged.completed_at <= aged.deadline_at
            when aged.measured_at > aged.deadline_at then false
        end as is_deadline_met,
        coalesce(aged.completed_at is null and aged.measured_at > aged.deadline_at, false) as is_overdue,
        aged.days_open,
        case when aged.completed_at is not null then aged.days_open end as days_to_complete,
        coalesce(subtasks.subtask_count, 0) as subtask_count,
        coalesce(subtasks.completed_subtask_count, 0) as completed_subtask_count,
        coalesce(subtasks.open_subtask_count, 0) as open_subtask_count,
        coalesce(subtasks.overdue_subtask_count, 0) as overdue_subtask_count,
        aged.created_at,
        aged.deadline_at,
        aged.completed_at,
        aged.updated_at,
        aged.measured_at
    from aged
    left join subtasks on aged.request_ref_id = subtasks.request_ref_id
)

select * from final
