-- One row per line of a purchase or return in fct_purchases. Signs follow fct_purchases: return
-- lines negative, lines of a returned order zero; gross_* keep the amounts as written.
-- Incremental by the purchase's partition_date (macros/incremental.sql); a receipt line
-- re-export replaces the earlier one, an order's lines are those of its latest snapshot.
-- depends_on: {{ ref('stg_marketing__mailings') }} (lookback_days: the longest attribution window)

{%- set sources = [
    ref('stg_pos__receipts'), ref('stg_pos__receipt_lines'), ref('stg_shop__orders'),
    ref('stg_shop__order_lines'),
] %}

with

purchases as (

    select * from {{ ref('fct_purchases') }}

),

{% if is_incremental() %}
receipts as (

    {{ with_partition_date(ref('stg_pos__receipts'), receipt_time()) }}

),

orders as (

    {{ with_partition_date(ref('stg_shop__orders'), order_time()) }}

),
{% endif %}

receipt_lines as (

    select * from {{ ref('stg_pos__receipt_lines') }}

),

order_lines as (

    select * from {{ ref('stg_shop__order_lines') }}

),

{% if is_incremental() %}
touched_dates as (

    {{ purchase_touched_dates() }}

),
{% endif %}

batch as (

    select * from purchases
    where {{ in_fact_batch('partition_date') }}

),

receipt_lines_ranked as (

    select
        {{ dbt.concat(["'pos:'", 'receipt_lines.receipt_id']) }} as purchase_key,
        receipt_lines.line_number,
        receipt_lines.product_id,
        receipt_lines.quantity,
        receipt_lines.amount,
        row_number() over (
            partition by receipt_lines.receipt_id, receipt_lines.line_number
            order by {{ load_order('desc', 'receipt_lines') }}
        ) as snapshot_rank
    from receipt_lines
    inner join batch
        on
            batch.purchase_source = 'pos'
            and receipt_lines.receipt_id = batch.source_id

),

order_lines_ranked as (

    select
        {{ dbt.concat(["'online:'", 'order_lines.order_id']) }} as purchase_key,
        order_lines.line_number,
        order_lines.product_id,
        order_lines.quantity,
        order_lines.amount,
        row_number() over (
            partition by order_lines.order_id, order_lines.updated_at, order_lines.line_number
            order by {{ load_order('desc', 'order_lines') }}
        ) as snapshot_rank
    from order_lines
    inner join batch
        on
            batch.purchase_source = 'online'
            and order_lines.order_id = batch.source_id
            and order_lines.updated_at = batch.order_updated_at

),

lines as (

    select * from receipt_lines_ranked
    where snapshot_rank = 1
    union all
    select * from order_lines_ranked
    where snapshot_rank = 1

),

signed as (

    select
        batch.purchase_key,
        lines.line_number,
        batch.purchase_source,
        batch.purchase_kind,
        batch.customer_id,
        batch.purchased_at,
        batch.is_purchase,
        batch.utm_campaign,
        lines.product_id,
        lines.quantity as gross_quantity,
        lines.amount as gross_amount,
        case
            when batch.purchase_kind = 'return' then -1
            when batch.order_status = 'returned' then 0
            else 1
        end as line_sign,
        batch.partition_date
    from lines
    inner join batch
        on lines.purchase_key = batch.purchase_key

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
    gross_quantity,
    gross_amount,
    cast(line_sign * gross_quantity as decimal(18, 3)) as units,
    cast(line_sign * gross_amount as decimal(18, 2)) as revenue,
    partition_date,
    {{ source_loaded_through(sources) }} as _source_loaded_through
from signed
