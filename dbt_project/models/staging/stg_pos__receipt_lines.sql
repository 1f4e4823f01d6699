-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('pos', 'receipt_lines') }}

),

renamed as (

    select
        cast(receipt_id as {{ dbt.type_string() }}) as receipt_id,
        {{ try_cast('line_number', dbt.type_bigint()) }} as line_number,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        {{ try_cast('quantity', 'decimal(18, 3)') }} as quantity,
        {{ try_cast('amount', 'decimal(18, 2)') }} as amount,
        {{ lineage_columns() }}
    from source

),

keyed as (

    select
        {{ surrogate_key(['receipt_id', 'line_number']) }} as receipt_line_id,
        *
    from renamed

)

select * from keyed
