-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
-- Lines of every order snapshot; fct_purchases keeps those of the order's latest snapshot.
with

source as (

    select * from {{ source('shop', 'order_lines') }}

),

renamed as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        {{ try_cast('updated_at', dbt.type_timestamp()) }} as updated_at,
        {{ try_cast('line_number', dbt.type_bigint()) }} as line_number,
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        {{ try_cast('quantity', 'decimal(18, 3)') }} as quantity,
        {{ try_cast('amount', 'decimal(18, 2)') }} as amount,
        {{ lineage_columns() }}
    from source

),

keyed as (

    select
        {{ surrogate_key(['order_id', 'updated_at', 'line_number']) }} as order_line_id,
        *
    from renamed

)

select * from keyed
