{#
    One row per ad and UTC day it delivered: spend and checkout value in the ad account's
    currency (named in `currency`: accounts differ), impressions, clicks and conversions as
    last restated, with the keys of the ad's ad group and campaign.
#}
with performance as (
    select * from {{ ref('stg_pinterest_ads__ad_analytics') }}
),

ads as (
    select ad_id, ad_group_id, campaign_id, ad_name, status from {{ ref('stg_pinterest_ads__ads') }}
),

accounts as (
    select ad_account_id, currency from {{ ref('stg_pinterest_ads__ad_accounts') }}
),

final as (
    select
        {{ surrogate_key(['performance.ad_id', 'performance.report_date']) }} as ad_performance_key,
        performance.report_date,
        performance.ad_id,
        ads.ad_name,
        ads.status as ad_status,
        {{ surrogate_key(['ads.ad_group_id']) }} as ad_group_key,
        ads.ad_group_id,
        {{ surrogate_key(['ads.campaign_id']) }} as campaign_key,
        ads.campaign_id,
        performance.ad_account_id,
        accounts.currency,
        performance.spend,
        performance.paid_impressions,
        performance.total_impressions,
        performance.clicks,
        performance.conversions,
        performance.checkouts,
        performance.checkout_value
    from performance
    left join ads on performance.ad_id = ads.ad_id
    left join accounts on performance.ad_account_id = accounts.ad_account_id
)

select * from final
