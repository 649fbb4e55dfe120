{# One row per consent purpose, with the collection points that ask about it and its transactions. #}
with purposes as (
    select * from {{ ref('stg_onetrust__purposes') }}
),

asked_at as (
    select purpose_id, count(*) as collection_point_count
    from {{ ref('stg_onetrust__collection_points') }}
    cross join lateral unnest(purpose_ids) as asked (purpose_id)
    group by 1
),

transactions as (
    select
        purpose_id,
        count(*) as transaction_count,
        max(consent_created_at) as last_transaction_at
    from {{ ref('stg_onetrust__consent_transactions') }}
    where not coalesce(is_test, false)
    group by 1
),

final as (
    select
        {{ surrogate_key(['purposes.purpose_id']) }} as purpose_key,
        purposes.purpose_id,
        purposes.purpose_name,
        purposes.purpose_version,
        purposes.purpose_type,
        purposes.purpose_status,
        purposes.version_count,
        coalesce(asked_at.collection_point_count, 0) as collection_point_count,
        coalesce(transactions.transaction_count, 0) as transaction_count,
        transactions.last_transaction_at,
        purposes.created_at,
        purposes.published_at,
        purposes.last_modified_at,
        purposes.retire_on_at
    from purposes
    left join asked_at on purposes.purpose_id = asked_at.purpose_id
    left join transactions on purposes.purpose_id = transactions.purpose_id
)

select * from final
