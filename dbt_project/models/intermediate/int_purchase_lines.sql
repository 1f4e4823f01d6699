-- One row per line of a purchase or return in int_purchases, with the product's category
-- (for category rankings). Signs follow int_purchases: return lines negative, lines of a
-- returned order zero; gross_* keep the amounts as written.
with

purchases as (

    select * from {{ ref('int_purchases') }}

),

receipt_lines as (

    select * from {{ ref('stg_pos__receipt_lines') }}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

products as (

    select * from {{ ref('stg_commerce__products') }}

),

lines as (

    select
        {{ dbt.concat(["'pos:'", 'receipt_id']) }} as purchase_key,
        line_number,
        product_id,
        quantity,
        amount
    from receipt_lines
    union all
    select
        {{ dbt.concat(["'online:'", 'order_lines.order_id']) }} as purchase_key,
        order_lines.line_number,
        order_lines.product_id,
        order_lines.quantity,
        order_lines.amount
    from order_lines
    inner join orders
        on
            order_lines.order_id = orders.order_id
            and order_lines.updated_at = orders.updated_at

),

signed as (

    select
        purchases.purchase_key,
        lines.line_number,
        purchases.purchase_source,
        purchases.purchase_kind,
        purchases.customer_id,
        purchases.purchased_at,
        purchases.is_purchase,
        purchases.utm_campaign,
        lines.product_id,
        products.category_id,
        products.category_name,
        lines.quantity as gross_quantity,
        lines.amount as gross_amount,
        case
            when purchases.purchase_kind = 'return' then -1
            when purchases.order_status = 'returned' then 0
            else 1
        end as line_sign
    from lines
    inner join purchases
        on lines.purchase_key = purchases.purchase_key
    left join products
        on lines.product_id = products.product_id

)

select
    {{ surrogate_key(['purchase_key', 'line_number']) }} as purchase_line_key,
    purchase_key,
    line_number,
    purchase_source,
    purchase_kind,
    customer_id,
    purchased_at,
    is_purchase,
    utm_campaign,
    product_id,
    category_id,
    category_name,
    gross_quantity,
    gross_amount,
    cast(line_sign * gross_quantity as decimal(18, 3)) as units,
    cast(line_sign * gross_amount as decimal(18, 2)) as revenue
from signed
