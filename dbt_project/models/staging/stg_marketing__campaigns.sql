with

source as (

    select * from {{ source('marketing', 'campaigns') }}

),

renamed as (

    select
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(name as {{ dbt.type_string() }}) as campaign_name,
        lower(trim(type)) as campaign_type,
        lower(trim(status)) as campaign_status,
        {{ try_cast('created_at', dbt.type_timestamp()) }} as created_at,
        {{ try_cast('exported_at', dbt.type_timestamp()) }} as exported_at,
        {{ lineage_columns() }}
    from source

),

ranked as (

    {{ rank_exported_snapshots('renamed', 'campaign_id') }}

)

select
    campaign_id,
    campaign_name,
    campaign_type,
    campaign_status,
    created_at,
    exported_at
from ranked
where snapshot_rank = 1
