-- One row per purchase or return (reports.md, "Purchase", "Revenue"): POS sale receipts,
-- POS return receipts (no purchase: negative revenue and units), and online orders by their
-- latest state (cancelled: dropped; returned: a purchase that nets to zero revenue and units).
-- Each belongs to the time it was made: purchased_at, an order's created_at.
with

receipts as (

    select * from {{ ref('stg_pos__receipts') }}

),

receipt_lines as (

    select * from {{ ref('stg_pos__receipt_lines') }}

),

orders as (

    select * from {{ ref('stg_shop__orders') }}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

receipt_units as (

    select
        receipt_id,
        sum(quantity) as quantity
    from receipt_lines
    group by receipt_id

),

order_units as (

    select
        order_lines.order_id,
        sum(order_lines.quantity) as quantity
    from order_lines
    inner join orders
        on
            order_lines.order_id = orders.order_id
            and order_lines.updated_at = orders.updated_at
    group by order_lines.order_id

),

pos as (

    select
        {{ dbt.concat(["'pos:'", 'receipts.receipt_id']) }} as purchase_key,
        'pos' as purchase_source,
        receipts.receipt_type as purchase_kind,
        receipts.receipt_id as source_id,
        receipts.customer_id,
        receipts.store_id,
        receipts.purchased_at,
        receipts.receipt_type = 'sale' as is_purchase,
        cast(
            case when receipts.receipt_type = 'return' then -1 else 1 end * receipts.total_amount
            as decimal(18, 2)
        ) as revenue,
        cast(
            case when receipts.receipt_type = 'return' then -1 else 1 end * coalesce(receipt_units.quantity, 0)
            as decimal(18, 3)
        ) as units,
        receipts.total_amount as gross_amount,
        cast(null as {{ dbt.type_string() }}) as order_status,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign
    from receipts
    left join receipt_units
        on receipts.receipt_id = receipt_units.receipt_id
    where receipts.receipt_type in ('sale', 'return')

),

online as (

    select
        {{ dbt.concat(["'online:'", 'orders.order_id']) }} as purchase_key,
        'online' as purchase_source,
        'order' as purchase_kind,
        orders.order_id as source_id,
        orders.customer_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        orders.created_at as purchased_at,
        true as is_purchase,
        cast(
            case when orders.order_status = 'returned' then 0 else 1 end * orders.total_amount
            as decimal(18, 2)
        ) as revenue,
        cast(
            case when orders.order_status = 'returned' then 0 else 1 end * coalesce(order_units.quantity, 0)
            as decimal(18, 3)
        ) as units,
        orders.total_amount as gross_amount,
        orders.order_status,
        orders.utm_source,
        orders.utm_medium,
        orders.utm_campaign
    from orders
    left join order_units
        on orders.order_id = order_units.order_id
    where orders.order_status <> 'cancelled'

)

select * from pos
union all
select * from online
