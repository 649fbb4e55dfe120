with source as (
    select * from {{ source('meltano', 'runs') }}
),

renamed as (
    select
        id as job_id,
        cast(run_id as text) as run_id,
        job_name as state_id,
        split_part(job_name, ':', 1) as environment,
        split_part(job_name, ':', 2) as pipeline,
        state as status,
        "trigger" as triggered_by,
        started_at,
        ended_at,
        last_heartbeat_at
    from source
)

select * from renamed
