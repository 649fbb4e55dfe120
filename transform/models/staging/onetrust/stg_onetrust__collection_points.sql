with source as (
    {{ latest_row(source_or_empty('tap_onetrust', 'collection_points'), ['id']) }}
),

renamed as (
    select
        id as collection_point_id,
        name as collection_point_name,
        collectionpointtype as collection_point_type,
        consenttype as consent_type,
        status as collection_point_status,
        version as collection_point_version,
        subjectidentifier as subject_identifier,
        language,
        doubleoptin as is_double_opt_in,
        array(select purpose ->> 'id' from jsonb_array_elements(purposes) as listed (purpose)) as purpose_ids,
        receiptcount as receipt_count,
        createdate as created_at,
        activationdate as activated_at,
        firstreceipton as first_receipt_at,
        lastactivitydate as last_activity_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
