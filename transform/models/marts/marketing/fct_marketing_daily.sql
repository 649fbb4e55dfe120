{#
    One row per UTC day with Pinterest delivery or Shopify orders: what Pinterest spent next to
    what the shop sold, and their ratio (ROAS, blended: all the shop's revenue over Pinterest's
    spend, not revenue Pinterest claims). Both sides in the shop's currency, var
    `marketing_currency`: ad accounts in another currency are left out, not converted (counted in
    `other_currency_ad_account_count`). Days are UTC days, as Pinterest reports them; orders
    count on the UTC day they were placed.
#}
{% set currency = var('marketing_currency') %}

with pinterest as (
    select
        report_date,
        sum(spend) filter (where currency = '{{ currency }}') as spend,
        sum(paid_impressions) filter (where currency = '{{ currency }}') as impressions,
        sum(clicks) filter (where currency = '{{ currency }}') as clicks,
        sum(conversions) filter (where currency = '{{ currency }}') as conversions,
        count(distinct ad_account_id) filter (where currency <> '{{ currency }}') as other_currency_accounts
    from {{ ref('fct_pinterest_ad_performance_daily') }}
    group by 1
),

shopify as (
    select
        (created_at at time zone 'UTC')::date as report_date,
        count(*) filter (where order_status <> 'cancelled') as order_count,
        sum(net_revenue) as revenue
    from {{ ref('fct_shopify_orders') }}
    where not coalesce(is_test, false)
      and currency = '{{ currency }}'
    group by 1
),

final as (
    select
        coalesce(pinterest.report_date, shopify.report_date) as report_date,
        '{{ currency }}'::text as currency,
        coalesce(pinterest.spend, 0) as pinterest_spend,
        coalesce(pinterest.impressions, 0) as pinterest_impressions,
        coalesce(pinterest.clicks, 0) as pinterest_clicks,
        coalesce(pinterest.conversions, 0) as pinterest_conversions,
        coalesce(pinterest.other_currency_accounts, 0) as other_currency_ad_account_count,
        coalesce(shopify.order_count, 0) as shopify_order_count,
        coalesce(shopify.revenue, 0) as shopify_revenue,
        case
            when coalesce(pinterest.spend, 0) = 0 then null
            else round(coalesce(shopify.revenue, 0) / pinterest.spend, 4)
        end as roas
    from pinterest
    full outer join shopify on pinterest.report_date = shopify.report_date
)

select * from final
