-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('sendgrid', 'sendgrid_events') }}

),

renamed as (

    select
        cast(sg_event_id as {{ dbt.type_string() }}) as event_id,
        cast(sg_message_id as {{ dbt.type_string() }}) as sg_message_id,
        nullif({{ dbt.split_part('sg_message_id', "'.'", 1) }}, '') as provider_message_id,
        cast(email_hash as {{ dbt.type_string() }}) as email_hash,
        cast(email_domain as {{ dbt.type_string() }}) as email_domain,
        {{ try_cast(adapter.quote('timestamp'), dbt.type_timestamp()) }} as occurred_at,
        lower(trim(event)) as event_name,
        nullif(trim(url), '') as url,
        lower(trim(type)) as bounce_type,
        cast(bounce_classification as {{ dbt.type_string() }}) as bounce_classification,
        cast(reason as {{ dbt.type_string() }}) as reason,
        cast(status as {{ dbt.type_string() }}) as smtp_status,
        cast(response as {{ dbt.type_string() }}) as response,
        cast(attempt as {{ dbt.type_string() }}) as attempt,
        cast(useragent as {{ dbt.type_string() }}) as user_agent,
        cast(category as {{ dbt.type_string() }}) as category,
        cast(asm_group_id as {{ dbt.type_string() }}) as asm_group_id,
        coalesce({{ try_cast('sg_machine_open', dbt.type_boolean()) }}, false) as is_machine_open,
        nullif(trim(mailing_id), '') as mailing_id,
        nullif(trim(customer_id), '') as customer_id,
        {{ lineage_columns() }}
    from source

)

select * from renamed
