with

source as (

    select * from {{ source('commerce', 'products') }}

),

renamed as (

    select
        cast(product_id as {{ dbt.type_string() }}) as product_id,
        cast(name as {{ dbt.type_string() }}) as product_name,
        cast(category_id as {{ dbt.type_string() }}) as category_id,
        cast(category_name as {{ dbt.type_string() }}) as category_name,
        {{ try_cast('exported_at', dbt.type_timestamp()) }} as exported_at,
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by product_id
            order by exported_at desc nulls last, _ingested_at desc, _file_hash desc, _row_number desc
        ) as snapshot_rank
    from renamed

)

select
    product_id,
    product_name,
    category_id,
    category_name,
    exported_at
from ranked
where snapshot_rank = 1
