with

source as (

    select * from {{ source('raw', 'push_events') }}

),

renamed as (

    select
        cast(message_id as {{ dbt.type_string() }}) as message_id,
        lower(trim(event)) as event_name,
        {{ try_cast('occurred_at', dbt.type_timestamp()) }} as occurred_at,
        nullif(trim(error), '') as error,
        lower(trim(platform)) as platform,
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

keyed as (

    select
        *,
        {{ surrogate_key(['message_id', 'event_name', 'occurred_at']) }} as event_id
    from renamed

),

ranked as (

    -- the push feed has no event id: one event per message, type and time
    select
        *,
        row_number() over (
            partition by event_id
            order by _ingested_at asc, _file_hash asc, _row_number asc
        ) as copy_rank
    from keyed

)

select
    event_id,
    message_id,
    event_name,
    occurred_at,
    error,
    platform
from ranked
where copy_rank = 1
