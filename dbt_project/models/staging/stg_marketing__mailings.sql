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
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

ranked as (

    select
        *,
        row_number() over (
            partition by mailing_id
            order by exported_at desc nulls last, _ingested_at desc, _file_hash desc, _row_number desc
        ) as snapshot_rank
    from renamed

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
