{#
    Shop orders in a currency other than var `marketing_currency`: the marketing mart would
    leave them out, so a wrong setting fails the build instead of showing no revenue. Set the
    var to the shop's currency. It guards the mart, so it runs with it (the marketing job).
#}
-- depends_on: {{ ref('fct_marketing_daily') }}
select order_id, currency
from {{ ref('fct_shopify_orders') }}
where not coalesce(is_test, false)
  and currency is distinct from '{{ var("marketing_currency") }}'
