{# One row per collection point, with how many purposes it asks about and its transactions. #}
with collection_points as (
    select * from {{ ref('stg_onetrust__collection_points') }}
),

transactions as (
    select
        collection_point_id,
        count(*) as transaction_count,
        max(consent_created_at) as last_transaction_at
    from {{ ref('stg_onetrust__consent_transactions') }}
    where not coalesce(is_test, false)
    group by 1
),

final as (
    select
        {{ surrogate_key(['collection_points.collection_point_id']) }} as collection_point_key,
        collection_points.collection_point_id,
        collection_points.collection_point_name,
        collection_points.collection_point_type,
        collection_points.consent_type,
        collection_points.collection_point_status,
        collection_points.collection_point_version,
        collection_points.subject_identifier,
        collection_points.language,
        collection_points.is_double_opt_in,
        coalesce(cardinality(collection_points.purpose_ids), 0) as purpose_count,
        coalesce(transactions.transaction_count, 0) as transaction_count,
        transactions.last_transaction_at,
        collection_points.created_at,
        collection_points.activated_at,
        collection_points.first_receipt_at,
        collection_points.last_activity_at
    from collection_points
    left join transactions on collection_points.collection_point_id = transactions.collection_point_id
)

select * from final
