{# One row per pipeline run Meltano recorded (not state edits), with how long it took. #}
select
    job_id,
    run_id,
    environment,
    pipeline,
    status,
    triggered_by,
    started_at,
    ended_at,
    extract(epoch from ended_at - started_at) as duration_seconds
from {{ ref('stg_meltano__runs') }}
where status <> 'STATE_EDIT'
