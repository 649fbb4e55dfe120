{# One row per product: its variants' price range and the stock across every location. #}
with products as (
    select * from {{ ref('stg_shopify__products') }}
),

variants as (
    select * from {{ ref('stg_shopify__product_variants') }}
),

stock as (
    select
        variants.product_id,
        sum(levels.available_quantity) as available_quantity
    from {{ ref('stg_shopify__inventory_levels') }} as levels
    inner join variants on levels.inventory_item_id = variants.inventory_item_id
    group by 1
),

prices as (
    select product_id, min(price) as min_price, max(price) as max_price
    from variants
    group by 1
),

final as (
    select
        {{ surrogate_key(['products.product_id']) }} as product_key,
        products.product_id,
        products.product_title,
        products.handle,
        products.vendor,
        products.product_type,
        products.product_status,
        products.variant_count,
        prices.min_price,
        prices.max_price,
        coalesce(stock.available_quantity, 0) as available_quantity,
        products.created_at,
        products.published_at,
        products.updated_at
    from products
    left join prices on products.product_id = prices.product_id
    left join stock on products.product_id = stock.product_id
)

select * from final
