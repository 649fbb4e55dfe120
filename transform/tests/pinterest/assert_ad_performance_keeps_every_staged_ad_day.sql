{# The daily ad fact neither drops nor double-counts a staged ad day, its spend or its clicks. #}
with staged as (
    select count(*) as ad_days, coalesce(sum(spend), 0) as spend, coalesce(sum(clicks), 0) as clicks
    from {{ ref('stg_pinterest_ads__ad_analytics') }}
),

in_mart as (
    select count(*) as ad_days, coalesce(sum(spend), 0) as spend, coalesce(sum(clicks), 0) as clicks
    from {{ ref('fct_pinterest_ad_performance_daily') }}
)

select * from staged, in_mart
where staged.ad_days <> in_mart.ad_days
   or staged.spend <> in_mart.spend
   or staged.clicks <> in_mart.clicks
