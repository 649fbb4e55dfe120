{#
    One row per person known to any source, keyed by normalised email (trimmed, lower-case):
    their Shopify orders next to their Klaviyo email engagement. A person in one source only
    has nulls for the other's ids and zeros for its counts.
#}
with klaviyo_people as (
    select
        email_normalized,
        min(profile_id) as klaviyo_profile_id,
        count(*) as klaviyo_profile_count
    from {{ ref('stg_klaviyo__profiles') }}
    where email_normalized is not null
    group by 1
),

engagement as (
    select
        profiles.email_normalized,
        count(*) filter (where events.engagement_type = 'send') as messages_received,
        count(*) filter (where events.engagement_type = 'open') as opens,
        count(*) filter (where events.engagement_type = 'click') as clicks,
        max(events.occurred_at) filter (where events.engagement_type in ('open', 'click')) as last_engaged_at
    from {{ ref('int_klaviyo__events_joined_to_metrics') }} as events
    inner join {{ ref('stg_klaviyo__profiles') }} as profiles
        on events.profile_id = profiles.profile_id
    where profiles.email_normalized is not null
    group by 1
),

shopify_people as (
    select
        email_normalized,
        min(customer_id) as shopify_customer_id,
        count(*) as shopify_customer_count
    from {{ ref('stg_shopify__customers') }}
    where email_normalized is not null
    group by 1
),

orders as (
    select
        email_normalized,
        count(*) as order_count,
        count(*) filter (where order_status <> 'cancelled') as completed_order_count,
        sum(net_revenue) as lifetime_revenue,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at
    from {{ ref('fct_shopify_orders') }}
    where email_normalized is not null
    group by 1
),

emails as (
    select email_normalized from klaviyo_people
    union
    select email_normalized from shopify_people
    union
    select email_normalized from orders
),

final as (
    select
        {{ surrogate_key(['emails.email_normalized']) }} as customer_key,
        emails.email_normalized as email,
        klaviyo_people.klaviyo_profile_id,
        shopify_people.shopify_customer_id,
        klaviyo_people.email_normalized is not null as is_in_klaviyo,
        shopify_people.email_normalized is not null or orders.email_normalized is not null as is_in_shopify,
        coalesce(orders.order_count, 0) as order_count,
        coalesce(orders.completed_order_count, 0) as completed_order_count,
        coalesce(orders.lifetime_revenue, 0) as lifetime_revenue,
        orders.first_order_at,
        orders.last_order_at,
        coalesce(engagement.messages_received, 0) as messages_received,
        coalesce(engagement.opens, 0) as opens,
        coalesce(engagement.clicks, 0) as clicks,
        round(engagement.opens::numeric / nullif(engagement.messages_received, 0), 4) as opens_per_message,
        engagement.last_engaged_at
    from emails
    left join klaviyo_people on emails.email_normalized = klaviyo_people.email_normalized
    left join engagement on emails.email_normalized = engagement.email_normalized
    left join shopify_people on emails.email_normalized = shopify_people.email_normalized
    left join orders on emails.email_normalized = orders.email_normalized
)

select * from final
