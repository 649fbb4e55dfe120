with source as (
    {{ latest_row(source_or_empty('tap_onetrust', 'data_subjects'), ['id']) }}
),

renamed as (
    select
        id as data_subject_id,
        identifier,
        identifiertype as identifier_type,
        language,
        latestgeolocation ->> 'country' as country_code,
        testdatasubject as is_test,
        donotcall as is_do_not_call,
        lastreceiptguid as last_receipt_id,
        createddate as created_at,
        lasttransactiondate as last_transaction_at,
        lastupdateddate as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
