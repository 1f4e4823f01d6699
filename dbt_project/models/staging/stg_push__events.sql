-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('push', 'push_events') }}

),

renamed as (

    select
        cast(message_id as {{ dbt.type_string() }}) as message_id,
        lower(trim(event)) as event_name,
        {{ try_cast('occurred_at', dbt.type_timestamp()) }} as occurred_at,
        nullif(trim(error), '') as error,
        lower(trim(platform)) as platform,
        {{ lineage_columns() }}
    from source

),

keyed as (

    select
        *,
        {{ surrogate_key(['message_id', 'event_name', 'occurred_at']) }} as event_id
    from renamed

)

select * from keyed
