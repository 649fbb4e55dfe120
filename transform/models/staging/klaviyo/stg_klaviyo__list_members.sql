with source as (
    {{ latest_row(source_or_empty('tap_klaviyo', 'list_members'), ['list_id', 'profile_id']) }}
),

renamed as (
    select
        list_id,
        profile_id,
        joined_group_at as joined_at,
        _sdc_batched_at as loaded_at
    from source
)

select * from renamed
