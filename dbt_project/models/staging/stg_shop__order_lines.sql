-- Lines of every order snapshot; int_purchases keeps those of the order's latest snapshot.
with

source as (

    select * from {{ source('raw', 'order_lines') }}

),

renamed as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        {{ try_cast('updated_at', dbt.type_timestamp()) }} as updated_at,
        {{ try_cast('line_number', dbt.type_bigint()) }} as line_number,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        {{ try_cast('quantity', 'decimal(18, 3)') }} as quantity,
        {{ try_cast('amount', 'decimal(18, 2)') }} as amount,
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by order_id, updated_at, line_number
            order by _ingested_at desc, _file_hash desc, _row_number desc
        ) as snapshot_rank
    from renamed

)

select
    {{ surrogate_key(['order_id', 'updated_at', 'line_number']) }} as order_line_id,
    order_id,
    updated_at,
    line_number,
    product_id,
    quantity,
    amount
from ranked
where snapshot_rank = 1
