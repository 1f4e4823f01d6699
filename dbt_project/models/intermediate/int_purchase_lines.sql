-- One row per line of a purchase or return (fct_purchase_lines) with the product's current
-- category (for category rankings). Signs follow fct_purchases.
with

purchase_lines as (

    select * from {{ ref('fct_purchase_lines') }}

),

products as (

    select * from {{ ref('stg_commerce__products') }}

)

select
    purchase_lines.purchase_line_key,
    purchase_lines.purchase_key,
    purchase_lines.line_number,
    purchase_lines.purchase_source,
    purchase_lines.purchase_kind,
    purchase_lines.customer_id,
    purchase_lines.purchased_at,
    purchase_lines.is_purchase,
    purchase_lines.utm_campaign,
    purchase_lines.product_id,
    products.category_id,
    products.category_name,
    purchase_lines.gross_quantity,
    purchase_lines.gross_amount,
    purchase_lines.units,
    purchase_lines.revenue
from purchase_lines
left join products
    on purchase_lines.product_id = products.product_id
