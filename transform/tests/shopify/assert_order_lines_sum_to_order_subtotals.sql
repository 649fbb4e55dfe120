{#
    Line totals less discounts are each order's subtotal, as Shopify states it: lines were
    unnested without loss or repetition.
#}
select orders.order_id, orders.subtotal_price, sum(lines.line_total) - orders.total_discounts as from_lines
from {{ ref('fct_shopify_orders') }} as orders
inner join {{ ref('fct_shopify_order_lines') }} as lines on orders.order_id = lines.order_id
group by orders.order_id, orders.subtotal_price, orders.total_discounts
having sum(lines.line_total) - orders.total_discounts <> orders.subtotal_price
