-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('twilio', 'twilio_clicks') }}

),

renamed as (

    select
        lower(trim(event_type)) as event_type,
        cast(sms_sid as {{ dbt.type_string() }}) as message_sid,
        cast(to_hash as {{ dbt.type_string() }}) as to_hash,
        nullif(trim(link), '') as url,
        {{ try_cast('click_time', dbt.type_timestamp()) }} as clicked_at,
        cast(messaging_service_sid as {{ dbt.type_string() }}) as messaging_service_sid,
        cast(user_agent as {{ dbt.type_string() }}) as user_agent,
        {{ lineage_columns() }}
    from source

),

keyed as (

    select
        *,
        {{ surrogate_key(['message_sid', 'clicked_at', 'url', 'user_agent']) }} as click_id
    from renamed

)

select * from keyed
