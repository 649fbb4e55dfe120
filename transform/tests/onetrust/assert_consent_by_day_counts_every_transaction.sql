{# The daily consent fact neither drops nor double-counts a staged (non-test) transaction or opt-in. #}
with staged as (
    select count(*) as transactions, count(*) filter (where is_consent_given) as opt_ins
    from {{ ref('stg_onetrust__consent_transactions') }}
    where not coalesce(is_test, false)
),

in_mart as (
    select coalesce(sum(transaction_count), 0) as transactions, coalesce(sum(opt_in_count), 0) as opt_ins
    from {{ ref('fct_onetrust_consent_by_day') }}
)

select * from staged, in_mart
where staged.transactions <> in_mart.transactions or staged.opt_ins <> in_mart.opt_ins
