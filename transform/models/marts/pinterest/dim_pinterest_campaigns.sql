{#
    One row per campaign of every status (archived ones included: they spent before they were
    archived), with its account's currency, how many ad groups and ads it has, and its delivery
    over the days loaded, from the campaign's own daily report.
#}
with campaigns as (
    select * from {{ ref('stg_pinterest_ads__campaigns') }}
),

accounts as (
    select ad_account_id, ad_account_name, currency from {{ ref('stg_pinterest_ads__ad_accounts') }}
),

ad_groups as (
    select campaign_id, count(*) as ad_group_count
    from {{ ref('stg_pinterest_ads__ad_groups') }}
    group by 1
),

ads as (
    select campaign_id, count(*) as ad_count
    from {{ ref('stg_pinterest_ads__ads') }}
    group by 1
),

delivery as (
    select
        campaign_id,
        sum(spend) as spend,
        sum(paid_impressions) as paid_impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(checkout_value) as checkout_value,
        min(report_date) as first_delivery_date,
        max(report_date) as last_delivery_date
    from {{ ref('stg_pinterest_ads__campaign_analytics') }}
    group by 1
),

final as (
    select
        {{ surrogate_key(['campaigns.campaign_id']) }} as campaign_key,
        campaigns.campaign_id,
        campaigns.ad_account_id,
        accounts.ad_account_name,
        accounts.currency,
        campaigns.campaign_name,
        campaigns.status,
        campaigns.is_archived,
        campaigns.summary_status,
        campaigns.objective_type,
        campaigns.is_campaign_budget_optimization,
        campaigns.daily_spend_cap,
        campaigns.lifetime_spend_cap,
        coalesce(ad_groups.ad_group_count, 0) as ad_group_count,
        coalesce(ads.ad_count, 0) as ad_count,
        coalesce(delivery.spend, 0) as spend,
        coalesce(delivery.paid_impressions, 0) as paid_impressions,
        coalesce(delivery.clicks, 0) as clicks,
        coalesce(delivery.conversions, 0) as conversions,
        coalesce(delivery.checkout_value, 0) as checkout_value,
        delivery.first_delivery_date,
        delivery.last_delivery_date,
        campaigns.starts_at,
        campaigns.ends_at,
        campaigns.created_at,
        campaigns.updated_at
    from campaigns
    left join accounts on campaigns.ad_account_id = accounts.ad_account_id
    left join ad_groups on campaigns.campaign_id = ad_groups.campaign_id
    left join ads on campaigns.campaign_id = ads.campaign_id
    left join delivery on campaigns.campaign_id = delivery.campaign_id
)

select * from final
