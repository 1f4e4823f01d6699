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
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by campaign_id
            order by exported_at desc nulls last, _ingested_at desc, _file_hash desc, _row_number desc
        ) as snapshot_rank
    from renamed

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
