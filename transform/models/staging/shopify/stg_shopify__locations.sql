with source as (
    {{ latest_row(source_or_empty('tap_shopify', 'locations'), ['id']) }}
),

renamed as (
    select
        id as location_id,
        name as location_name,
        address1,
        city,
        province_code,
        country_code,
        zip,
        active as is_active,
        created_at,
        updated_at
    from source
)

select * from renamed
