-- Rename and cast only; int_global_holdout_periods picks the latest export of each period.
with

source as (

    select * from {{ source('marketing', 'holdouts') }}

),

renamed as (

    select
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        lower(trim(holdout)) as holdout,
        {{ try_cast('valid_from', dbt.type_timestamp()) }} as valid_from,
        {{ try_cast('valid_to', dbt.type_timestamp()) }} as valid_to,
        {{ lineage_columns() }}
    from source

)

select * from renamed
