-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('canonical', 'events') }}

),

renamed as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        lower(trim(provider)) as provider,
        lower(trim(channel)) as channel,
        nullif(trim(provider_message_id), '') as provider_message_id,
        lower(trim(event_type)) as event_type,
        {{ try_cast('occurred_at', dbt.type_timestamp()) }} as occurred_at,
        nullif(trim(url), '') as url,
        nullif(trim(error_code), '') as error_code,
        cast(reason as {{ dbt.type_string() }}) as reason,
        {{ lineage_columns() }}
    from source

),

keyed as (

    select
        {{ surrogate_key(['provider', 'event_id']) }} as provider_event_id,
        *
    from renamed

)

select * from keyed
