with source as (
    {{ latest_row(source_or_empty('tap_onetrust', 'dsar_requests'), ['requestqueueid']) }}
),

renamed as (
    select
        ---------- ids
        requestqueueid as request_id,
        requestqueuerefid as request_ref_id,

        ---------- what was asked, and where it stands
        status,
        array(select jsonb_array_elements_text(requesttypes)) as request_types,
        array(select jsonb_array_elements_text(subjecttypes)) as subject_types,
        resolution,
        isextended as is_extended,
        assignedtogroup as is_assigned_to_group,
        approver,
        workflow,
        webform,
        organization,

        ---------- the requester
        firstname as first_name,
        lastname as last_name,
        email,
        lower(trim(email)) as email_normalized,
        language,
        countrycode as country_code,
        countryname as country_name,

        ---------- timestamps
        datecreated as created_at,
        deadline as deadline_at,
        maxdeadlineextensiondate as max_deadline_extension_at,
        datecompleted as completed_at,
        dateupdated as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
