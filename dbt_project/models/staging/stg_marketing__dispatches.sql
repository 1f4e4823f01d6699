-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('marketing', 'dispatches') }}

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
        {{ lineage_columns() }}
    from source

),

keyed as (

    select
        *,
        {{ surrogate_key(['mailing_id', 'customer_id', 'channel', 'provider', 'provider_message_id',
                          'dispatched_at', 'dispatch_status', 'skip_reason']) }} as dispatch_id
    from renamed

)

select * from keyed
