-- Rename and cast only, with the lineage columns (_ingested_at, _file_hash, _row_number)
-- that the incremental facts use to deduplicate and to find newly landed rows.
with

source as (

    select * from {{ source('marketing', 'audience') }}

),

renamed as (

    select
        cast(mailing_id as {{ dbt.type_string() }}) as mailing_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        lower(trim({{ adapter.quote('group') }})) as grp,
        nullif(trim(variant), '') as variant,
        lower(trim(status)) as eligibility,
        cast(address_hash as {{ dbt.type_string() }}) as address_hash,
        cast(email_domain as {{ dbt.type_string() }}) as email_domain,
        {{ lineage_columns() }}
    from source

)

select * from renamed
