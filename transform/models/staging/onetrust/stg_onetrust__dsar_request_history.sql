with source as (
    {{ latest_row(source_or_empty('tap_onetrust', 'dsar_request_history'), ['requestqueuerefid', 'recordeddatetime']) }}
),

renamed as (
    select
        {{ surrogate_key(['requestqueuerefid', 'recordeddatetime']) }} as request_history_key,
        requestqueuerefid as request_ref_id,
        array(select change ->> 'fieldName' from jsonb_array_elements(changes) as entry (change)) as changed_fields,
        changes,
        description,
        userdetail ->> 'fullName' as changed_by_name,
        userdetail ->> 'email' as changed_by_email,
        changedatetime as changed_at,
        recordeddatetime as recorded_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
