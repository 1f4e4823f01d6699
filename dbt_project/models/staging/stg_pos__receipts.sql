-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('pos', 'receipts') }}

),

renamed as (

    select
        cast(receipt_id as {{ dbt.type_string() }}) as receipt_id,
        nullif(trim(customer_id), '') as customer_id,
        cast(store_id as {{ dbt.type_string() }}) as store_id,
        {{ try_cast('purchased_at', dbt.type_timestamp()) }} as purchased_at,
        lower(trim(type)) as receipt_type,
        {{ try_cast('total_amount', 'decimal(18, 2)') }} as total_amount,
        upper(trim(currency)) as currency,
        {{ lineage_columns() }}
    from source

)

select * from renamed
