with source as (
    {{ latest_row(source_or_empty('tap_onetrust', 'dsar_subtasks'), ['subtaskid']) }}
),

renamed as (
    select
        ---------- ids
        subtaskid as subtask_id,
        requestqueuerefid as request_ref_id,

        ---------- the task
        subtaskname as subtask_name,
        subtaskdescription as subtask_description,
        subtasktype as subtask_type,
        subtaskassignee as assignee,
        subtaskrequired as is_required,

        ---------- status: the UI writes `Complete`, the v3 API `COMPLETED`
        subtaskstatus as subtask_status,
        coalesce(upper(replace(subtaskstatus, ' ', '_')) in ('COMPLETE', 'COMPLETED'), false) as is_completed,
        subtaskresolution as subtask_resolution,

        ---------- timestamps
        subtaskcreateddate as created_at,
        subtaskdeadline as deadline_at,
        subtasklastupdateddate as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
