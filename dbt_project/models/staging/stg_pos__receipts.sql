with

source as (

    select * from {{ source('raw', 'receipts') }}

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
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by receipt_id
            order by _ingested_at desc, _file_hash desc, _row_number desc
        ) as snapshot_rank
    from renamed

)

select
    receipt_id,
    customer_id,
    store_id,
    purchased_at,
    receipt_type,
    total_amount,
    currency
from ranked
where snapshot_rank = 1
