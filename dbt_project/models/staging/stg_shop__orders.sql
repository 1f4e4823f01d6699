with

source as (

    select * from {{ source('raw', 'orders') }}

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
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

ranked as (

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
                _ingested_at desc,
                _file_hash desc,
                _row_number desc
        ) as snapshot_rank
    from renamed

)

select
    order_id,
    customer_id,
    created_at,
    updated_at,
    order_status,
    total_amount,
    currency,
    utm_source,
    utm_medium,
    utm_campaign
from ranked
where snapshot_rank = 1
