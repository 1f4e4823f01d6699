-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('twilio', 'twilio_messages') }}

),

renamed as (

    select
        cast(sid as {{ dbt.type_string() }}) as message_sid,
        cast(account_sid as {{ dbt.type_string() }}) as account_sid,
        cast(messaging_service_sid as {{ dbt.type_string() }}) as messaging_service_sid,
        cast(from_hash as {{ dbt.type_string() }}) as from_hash,
        cast(to_hash as {{ dbt.type_string() }}) as to_hash,
        cast(body as {{ dbt.type_string() }}) as body,
        lower(trim(direction)) as direction,
        lower(trim(status)) as message_status,
        nullif(trim(error_code), '') as error_code,
        nullif(trim(error_message), '') as error_message,
        {{ try_cast('num_segments', dbt.type_bigint()) }} as num_segments,
        {{ try_cast('date_created', dbt.type_timestamp()) }} as created_at,
        {{ try_cast('date_sent', dbt.type_timestamp()) }} as sent_at,
        {{ try_cast('date_updated', dbt.type_timestamp()) }} as updated_at,
        {{ try_cast('price', dbt.type_numeric()) }} as price,
        upper(trim(price_unit)) as price_unit,
        {{ lineage_columns() }}
    from source

)

select * from renamed
