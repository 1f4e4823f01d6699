-- One row per purchase or return (reports.md, "Purchase", "Revenue"): POS sale receipts,
-- POS return receipts (no purchase: negative revenue and units), and online orders by their
-- latest state (cancelled: dropped; returned: a purchase that nets to zero revenue and units).
-- Each belongs to the time it was made (purchased_at, an order's created_at) and is incremental
-- by partition_date, the UTC date of that time (macros/incremental.sql). A receipt re-export
-- replaces the earlier one (the latest loaded wins).
-- depends_on: {{ ref('stg_marketing__mailings') }} (lookback_days: the longest attribution window)

{%- set sources = [
    ref('stg_pos__receipts'), ref('stg_pos__receipt_lines'), ref('stg_shop__orders'),
    ref('stg_shop__order_lines'),
] %}

with

receipts as (

    {{ with_partition_date(ref('stg_pos__receipts'), receipt_time()) }}

),

receipt_lines as (

    select * from {{ ref('stg_pos__receipt_lines') }}

),

orders as (

    {{ with_partition_date(ref('stg_shop__orders'), order_time()) }}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

{% if is_incremental() %}
touched_dates as (

    {{ purchase_touched_dates() }}

),
{% endif %}

receipts_ranked as (

    select
        *,
        row_number() over (
            partition by receipt_id
            order by {{ load_order('desc') }}
        ) as snapshot_rank
    from receipts
    where {{ in_fact_batch('partition_date') }}

),

latest_receipts as (

    select * from receipts_ranked
    where snapshot_rank = 1

),

receipt_lines_ranked as (

    select
        receipt_lines.receipt_id,
        receipt_lines.quantity,
        row_number() over (
            partition by receipt_lines.receipt_id, receipt_lines.line_number
            order by {{ load_order('desc', 'receipt_lines') }}
        ) as snapshot_rank
    from receipt_lines
    inner join latest_receipts
        on receipt_lines.receipt_id = latest_receipts.receipt_id

),

receipt_units as (

    select
        receipt_id,
        sum(quantity) as quantity
    from receipt_lines_ranked
    where snapshot_rank = 1
    group by receipt_id

),

orders_ranked as (

    -- the newest updated_at is the order's state; a tie goes to the later status
    select
        *,
        row_number() over (
            partition by order_id
            order by
                updated_at desc nulls last,
                case order_status
                    when 'cancelled' then 6
                    when 'returned' then 6
                    when 'delivered' then 5
                    when 'shipped' then 4
                    when 'paid' then 3
                    when 'placed' then 2
                    else 1
                end desc,
                {{ load_order('desc') }}
        ) as snapshot_rank
    from orders
    where {{ in_fact_batch('partition_date') }}

),

latest_orders as (

    select * from orders_ranked
    where snapshot_rank = 1

),

order_lines_ranked as (

    -- the lines of the order's latest snapshot
    select
        order_lines.order_id,
        order_lines.quantity,
        row_number() over (
            partition by order_lines.order_id, order_lines.updated_at, order_lines.line_number
            order by {{ load_order('desc', 'order_lines') }}
        ) as snapshot_rank
    from order_lines
    inner join latest_orders
        on
            order_lines.order_id = latest_orders.order_id
            and order_lines.updated_at = latest_orders.updated_at

),

order_units as (

    select
        order_id,
        sum(quantity) as quantity
    from order_lines_ranked
    where snapshot_rank = 1
    group by order_id

),

pos as (

    select
        {{ dbt.concat(["'pos:'", 'latest_receipts.receipt_id']) }} as purchase_key,
        'pos' as purchase_source,
        latest_receipts.receipt_type as purchase_kind,
        latest_receipts.receipt_id as source_id,
        latest_receipts.customer_id,
        latest_receipts.store_id,
        latest_receipts.purchased_at,
        latest_receipts.receipt_type = 'sale' as is_purchase,
        cast(
            case when latest_receipts.receipt_type = 'return' then -1 else 1 end * latest_receipts.total_amount
            as decimal(18, 2)
        ) as revenue,
        cast(
            case when latest_receipts.receipt_type = 'return' then -1 else 1 end * coalesce(receipt_units.quantity, 0)
            as decimal(18, 3)
        ) as units,
        latest_receipts.total_amount as gross_amount,
        cast(null as {{ dbt.type_string() }}) as order_status,
        cast(null as {{ dbt.type_timestamp() }}) as order_updated_at,
        cast(null as {{ dbt.type_string() }}) as utm_source,
        cast(null as {{ dbt.type_string() }}) as utm_medium,
        cast(null as {{ dbt.type_string() }}) as utm_campaign,
        latest_receipts.partition_date
    from latest_receipts
    left join receipt_units
        on latest_receipts.receipt_id = receipt_units.receipt_id
    where latest_receipts.receipt_type in ('sale', 'return')

),

online as (

    select
        {{ dbt.concat(["'online:'", 'latest_orders.order_id']) }} as purchase_key,
        'online' as purchase_source,
        'order' as purchase_kind,
        latest_orders.order_id as source_id,
        latest_orders.customer_id,
        cast(null as {{ dbt.type_string() }}) as store_id,
        latest_orders.created_at as purchased_at,
        true as is_purchase,
        cast(
            case when latest_orders.order_status = 'returned' then 0 else 1 end * latest_orders.total_amount
            as decimal(18, 2)
        ) as revenue,
        cast(
            case when latest_orders.order_status = 'returned' then 0 else 1 end * coalesce(order_units.quantity, 0)
            as decimal(18, 3)
        ) as units,
        latest_orders.total_amount as gross_amount,
        latest_orders.order_status,
        latest_orders.updated_at as order_updated_at,
        latest_orders.utm_source,
        latest_orders.utm_medium,
        latest_orders.utm_campaign,
        latest_orders.partition_date
    from latest_orders
    left join order_units
        on latest_orders.order_id = order_units.order_id
    where latest_orders.order_status <> 'cancelled'

),

purchases as (

    select * from pos
    union all
    select * from online

)

select
    *,
    {{ source_loaded_through(sources) }} as _source_loaded_through
from purchases
