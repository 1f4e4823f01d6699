-- Rename and cast only; int_message_prices gives each price its validity period.
with

source as (

    select * from {{ source('marketing', 'message_prices') }}

),

renamed as (

    select
        lower(trim(channel)) as channel,
        lower(trim(provider)) as provider,
        lower(trim(unit)) as unit,
        {{ try_cast('price', 'decimal(18, 6)') }} as price,
        upper(trim(currency)) as currency,
        {{ try_cast('valid_from', dbt.type_timestamp()) }} as valid_from,
        {{ lineage_columns() }}
    from source

)

select * from renamed
