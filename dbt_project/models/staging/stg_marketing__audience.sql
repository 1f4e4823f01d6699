with

source as (

    select * from {{ source('raw', 'audience') }}

),

renamed as (

    select
        cast(mailing_id as {{ dbt.type_string() }}) as mailing_id,
        cast(customer_id as {{ dbt.type_string() }}) as customer_id,
        lower(trim({{ adapter.quote('group') }})) as grp,
        nullif(trim(variant), '') as variant,
        lower(trim(status)) as eligibility,
        cast(address_hash as {{ dbt.type_string() }}) as address_hash,
        _ingested_at,
        _file_hash,
        _row_number
    from source

),

ranked as (

    -- an audience re-export replaces the earlier row of the same mailing and customer
    select
        *,
        row_number() over (
            partition by mailing_id, customer_id
            order by _ingested_at desc, _file_hash desc, _row_number desc
        ) as snapshot_rank
    from renamed

)

select
    mailing_id,
    customer_id,
    grp,
    variant,
    eligibility,
    address_hash
from ranked
where snapshot_rank = 1
