with

source as (

    select * from {{ source('raw', 'dispatches') }}

),

renamed as (

    select
        cast(mailing_id as {{ dbt.type_string() }}) as mailing_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        lower(trim(channel)) as channel,
        lower(trim(provider)) as provider,
        nullif(trim(provider_message_id), '') as provider_message_id,
        {{ try_cast('dispatched_at', dbt.type_timestamp()) }} as dispatched_at,
        lower(trim(status)) as dispatch_status,
        nullif(trim(skip_reason), '') as skip_reason,
        {{ try_cast('segments', dbt.type_bigint()) }} as segments,
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

keyed as (

    select
        *,
        {{ surrogate_key(['mailing_id', 'customer_id', 'channel', 'provider', 'provider_message_id',
                          'dispatched_at', 'dispatch_status', 'skip_reason']) }} as dispatch_id
    from renamed

),

ranked as (

    -- a message the provider knows is one dispatch, whatever the platform re-exported
    select
        *,
        row_number() over (
            partition by
                case
                    when provider_message_id is null then dispatch_id
                    else {{ dbt.concat(['provider', "':'", 'provider_message_id']) }}
                end
            order by _ingested_at desc, _file_hash desc, _row_number desc
        ) as snapshot_rank
    from keyed

)

select
    dispatch_id,
    mailing_id,
    customer_id,
    channel,
    provider,
    provider_message_id,
    dispatched_at,
    dispatch_status,
    skip_reason,
    segments
from ranked
where snapshot_rank = 1
