with

source as (

    select * from {{ source('marketing', 'mailings') }}

),

renamed as (

    select
        cast(mailing_id as {{ dbt.type_string() }}) as mailing_id,
        cast(campaign_id as {{ dbt.type_string() }}) as campaign_id,
        cast(name as {{ dbt.type_string() }}) as mailing_name,
        lower(trim(channel)) as channel,
        lower(trim(category)) as category,
        lower(trim(status)) as mailing_status,
        {{ try_cast('sent_at', dbt.type_timestamp()) }} as sent_at,
        {{ try_cast('attribution_window_days', dbt.type_bigint()) }} as attribution_window_days,
        cast(body as {{ dbt.type_string() }}) as body,
        {{ try_cast('exported_at', dbt.type_timestamp()) }} as exported_at,
        {{ lineage_columns() }}
    from source

),

ranked as (

    {{ rank_exported_snapshots('renamed', 'mailing_id') }}

)

select
    mailing_id,
    campaign_id,
    mailing_name,
    channel,
    category,
    mailing_status,
    sent_at,
    attribution_window_days,
    body,
    exported_at
from ranked
where snapshot_rank = 1
