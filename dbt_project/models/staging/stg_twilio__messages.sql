with

source as (

    select * from {{ source('raw', 'twilio_messages') }}

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
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

ranked as (

    -- the newest date_updated is the message's state; a tie goes to the status that
    -- ranks higher in the final-status precedence
    select
        *,
        row_number() over (
            partition by message_sid
            order by
                updated_at desc nulls last,
                case message_status
                    when 'read' then 6
                    when 'delivered' then 5
                    when 'undelivered' then 4
                    when 'failed' then 4
                    when 'canceled' then 4
                    when 'received' then 4
                    when 'sent' then 3
                    when 'sending' then 2
                    when 'receiving' then 2
                    else 1
                end desc,
                _ingested_at desc,
                _file_hash desc,
                _row_number desc
        ) as snapshot_rank
    from renamed

)

select
    message_sid,
    account_sid,
    messaging_service_sid,
    from_hash,
    to_hash,
    body,
    direction,
    message_status,
    error_code,
    error_message,
    num_segments,
    created_at,
    sent_at,
    updated_at,
    price,
    price_unit
from ranked
where snapshot_rank = 1
