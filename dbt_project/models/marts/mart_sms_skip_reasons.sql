-- One row per SMS mailing and skip reason: the contacts (distinct customers) with a skipped
-- dispatch for that reason, and their share of the mailing's skipped contacts. A skipped
-- dispatch without a reason is reported as `unknown`.
with

mailing_names as (

    select * from {{ ref('int_mailing_names') }}

),

messages as (

    select * from {{ ref('int_messages') }}
    where channel = 'sms' and dispatch_status = 'skipped'

),

skips as (

    select
        mailing_id,
        customer_id,
        coalesce(skip_reason, 'unknown') as skip_reason
    from messages

),

by_reason as (

    select
        mailing_id,
        skip_reason,
        count(distinct customer_id) as contacts
    from skips
    group by mailing_id, skip_reason

),

by_mailing as (

    select
        mailing_id,
        count(distinct customer_id) as skipped_contacts
    from skips
    group by mailing_id

)

select
    cast(by_reason.mailing_id as {{ dbt.type_string() }}) as mailing_id,
    cast(mailing_names.mailing_name as {{ dbt.type_string() }}) as mailing_name,
    cast(by_reason.skip_reason as {{ dbt.type_string() }}) as skip_reason,
    cast(by_reason.contacts as {{ dbt.type_bigint() }}) as contacts,
    {{ safe_divide('by_reason.contacts', 'by_mailing.skipped_contacts') }} as share_of_skipped
from by_reason
inner join by_mailing
    on by_reason.mailing_id = by_mailing.mailing_id
left join mailing_names
    on by_reason.mailing_id = mailing_names.mailing_id
