-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('shop', 'orders') }}

),

renamed as (

    select
        cast(order_id as {{ dbt.type_string() }}) as order_id,
        nullif(trim(customer_id), '') as customer_id,
        {{ try_cast('created_at', dbt.type_timestamp()) }} as created_at,
        {{ try_cast('updated_at', dbt.type_timestamp()) }} as updated_at,
        lower(trim(status)) as order_status,
        {{ try_cast('total_amount', 'decimal(18, 2)') }} as total_amount,
        upper(trim(currency)) as currency,
        nullif(trim(utm_source), '') as utm_source,
        nullif(trim(utm_medium), '') as utm_medium,
        nullif(trim(utm_campaign), '') as utm_campaign,
        {{ lineage_columns() }}
    from source

)

select * from renamed
