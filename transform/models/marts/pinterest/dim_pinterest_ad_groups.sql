{#
    One row per ad group of every status, with its campaign (and the campaign's status: an
    active ad group of a paused campaign does not deliver), its account's currency, its ads,
    and its delivery over the days loaded, from the ad group's own daily report.
#}
with ad_groups as (
    select * from {{ ref('stg_pinterest_ads__ad_groups') }}
),

campaigns as (
    select campaign_id, campaign_name, status from {{ ref('stg_pinterest_ads__campaigns') }}
),

accounts as (
    select ad_account_id, currency from {{ ref('stg_pinterest_ads__ad_accounts') }}
),

ads as (
    select ad_group_id, count(*) as ad_count
    from {{ ref('stg_pinterest_ads__ads') }}
    group by 1
),

delivery as (
    select
        ad_group_id,
        sum(spend) as spend,
        sum(paid_impressions) as paid_impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(checkout_value) as checkout_value,
        min(report_date) as first_delivery_date,
        max(report_date) as last_delivery_date
    from {{ ref('stg_pinterest_ads__ad_group_analytics') }}
    group by 1
),

final as (
    select
        {{ surrogate_key(['ad_groups.ad_group_id']) }} as ad_group_key,
        ad_groups.ad_group_id,
        {{ surrogate_key(['ad_groups.campaign_id']) }} as campaign_key,
        ad_groups.campaign_id,
        campaigns.campaign_name,
        campaigns.status as campaign_status,
        ad_groups.ad_account_id,
        accounts.currency,
        ad_groups.ad_group_name,
        ad_groups.status,
        ad_groups.is_archived,
        ad_groups.summary_status,
        ad_groups.billable_event,
        ad_groups.bid_strategy_type,
        ad_groups.budget_type,
        ad_groups.budget,
        ad_groups.bid,
        coalesce(ads.ad_count, 0) as ad_count,
        coalesce(delivery.spend, 0) as spend,
        coalesce(delivery.paid_impressions, 0) as paid_impressions,
        coalesce(delivery.clicks, 0) as clicks,
        coalesce(delivery.conversions, 0) as conversions,
        coalesce(delivery.checkout_value, 0) as checkout_value,
        delivery.first_delivery_date,
        delivery.last_delivery_date,
        ad_groups.starts_at,
        ad_groups.ends_at,
        ad_groups.created_at,
        ad_groups.updated_at
    from ad_groups
    left join campaigns on ad_groups.campaign_id = campaigns.campaign_id
    left join accounts on ad_groups.ad_account_id = accounts.ad_account_id
    left join ads on ad_groups.ad_group_id = ads.ad_group_id
    left join delivery on ad_groups.ad_group_id = delivery.ad_group_id
)

select * from final
