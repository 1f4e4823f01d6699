with

source as (

    select * from {{ source('raw', 'receipt_lines') }}

),

renamed as (

    select
        cast(receipt_id as {{ dbt.type_string() }}) as receipt_id,
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
            partition by receipt_id, line_number
            order by _ingested_at desc, _file_hash desc, _row_number desc
        ) as snapshot_rank
    from renamed

)

select
    {{ surrogate_key(['receipt_id', 'line_number']) }} as receipt_line_id,
    receipt_id,
    line_number,
    product_id,
    quantity,
    amount
from ranked
where snapshot_rank = 1
