{#
    Consent per day (UTC), purpose and collection point: how many choices were recorded, how
    many gave consent (opt-ins) and how many refused or took it back (opt-outs). Test
    transactions are left out; combinations without transactions have no row.
#}
with transactions as (
    select * from {{ ref('stg_onetrust__consent_transactions') }}
    where not coalesce(is_test, false)
),

purposes as (
    select purpose_id, purpose_name from {{ ref('stg_onetrust__purposes') }}
),

collection_points as (
    select collection_point_id, collection_point_name from {{ ref('stg_onetrust__collection_points') }}
),

per_day as (
    select
        (consent_created_at at time zone 'UTC')::date as consent_date,
        purpose_id,
        collection_point_id,
        count(*) as transaction_count,
        count(*) filter (where is_consent_given) as opt_in_count,
        count(*) filter (where is_consent_withdrawn) as opt_out_count,
        count(distinct data_subject_identifier) as data_subject_count
    from transactions
    group by 1, 2, 3
),

final as (
    select
        {{ surrogate_key(['per_day.consent_date', 'per_day.purpose_id', 'per_day.collection_point_id']) }} as consent_day_key,
        per_day.consent_date,
        {{ surrogate_key(['per_day.purpose_id']) }} as purpose_key,
        per_day.purpose_id,
        purposes.purpose_name,
        {{ surrogate_key(['per_day.collection_point_id']) }} as collection_point_key,
        per_day.collection_point_id,
        collection_points.collection_point_name,
        per_day.transaction_count,
        per_day.opt_in_count,
        per_day.opt_out_count,
        per_day.transaction_count - per_day.opt_in_count - per_day.opt_out_count as other_count,
        round(per_day.opt_in_count::numeric / per_day.transaction_count, 4) as opt_in_rate,
        per_day.data_subject_count
    from per_day
    left join purposes on per_day.purpose_id = purposes.purpose_id
    left join collection_points on per_day.collection_point_id = collection_points.collection_point_id
)

select * from final
