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
        {{ lineage_columns() }}
    from source

),

ranked as (

    {{ rank_exported_snapshots('renamed', 'product_id') }}

)

select
    product_id,
    product_name,
    category_id,
    category_name,
    exported_at
from ranked
where snapshot_rank = 1
