{#
    The marketing mart holds all the spend, impressions and clicks the staged ad reports give
    for the ad accounts in the shop's currency: no day lost or counted twice in the join.
#}
{% set currency = var('marketing_currency') %}

with staged as (
    select
        coalesce(sum(analytics.spend), 0) as spend,
        coalesce(sum(analytics.paid_impressions), 0) as impressions,
        coalesce(sum(analytics.clicks), 0) as clicks
    from {{ ref('stg_pinterest_ads__ad_analytics') }} as analytics
    inner join {{ ref('stg_pinterest_ads__ad_accounts') }} as accounts
        on analytics.ad_account_id = accounts.ad_account_id
    where accounts.currency = '{{ currency }}'
),

in_mart as (
    select
        coalesce(sum(pinterest_spend), 0) as spend,
        coalesce(sum(pinterest_impressions), 0) as impressions,
        coalesce(sum(pinterest_clicks), 0) as clicks
    from {{ ref('fct_marketing_daily') }}
)

select * from staged, in_mart
where staged.spend <> in_mart.spend
   or staged.impressions <> in_mart.impressions
   or staged.clicks <> in_mart.clicks
