with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'templates'), ['id']) }}
),

renamed as (
    select
        id as template_id,
        name as template_name,
        editor_type,
        html,
        text as plain_text,
        created as created_at,
        updated as updated_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
