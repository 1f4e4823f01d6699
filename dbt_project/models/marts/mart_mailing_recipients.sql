-- One row per mailing and customer (reports.md, mart_mailing_recipients): every audience member
-- (any eligibility, both groups) and every dispatched customer, for drill-down and export.
-- purchases and revenue are the customer's inside the mailing's window (revenue = sales -
-- returns); attribution is direct if any of those purchases is direct for the mailing, else
-- assisted if any is assisted, else null. unsubscribed: an unsubscribe attributed to this
-- mailing (int_opt_outs). Carries no contact data (no address, no hash).
with

mailing_names as (

    select * from {{ ref('int_mailing_names') }}

),

mailings as (

    select * from {{ ref('int_mailings') }}

),

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

mailing_purchases as (

    select * from {{ ref('int_mailing_purchases') }}

),

opt_outs as (

    select * from {{ ref('int_opt_outs') }}

),

customer_purchases as (

    select
        mailing_id,
        customer_id,
        count(distinct case when is_purchase then purchase_key end) as purchases,
        sum(revenue) as revenue,
        max(case when attribution = 'direct' then 1 else 0 end) as has_direct,
        max(case when attribution = 'assisted' then 1 else 0 end) as has_assisted
    from mailing_purchases
    where customer_id is not null
    group by mailing_id, customer_id

),

unsubscribers as (

    select distinct
        mailing_id,
        customer_id
    from opt_outs
    where event_type = 'unsubscribed' and mailing_id is not null and customer_id is not null

)

select
    cast(recipients.mailing_id as {{ dbt.type_string() }}) as mailing_id,
    cast(mailing_names.mailing_name as {{ dbt.type_string() }}) as mailing_name,
    cast(recipients.customer_id as {{ dbt.type_string() }}) as customer_id,
    cast(mailings.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(mailing_names.campaign_name as {{ dbt.type_string() }}) as campaign_name,
    cast(recipients.channel as {{ dbt.type_string() }}) as channel,
    cast(recipients.grp as {{ dbt.type_string() }}) as grp,
    cast(recipients.variant as {{ dbt.type_string() }}) as variant,
    cast(recipients.eligibility as {{ dbt.type_string() }}) as eligibility,
    cast(recipients.dispatch_status as {{ dbt.type_string() }}) as dispatch_status,
    cast(recipients.skip_reason as {{ dbt.type_string() }}) as skip_reason,
    cast(recipients.final_status as {{ dbt.type_string() }}) as final_status,
    recipients.delivered_at,
    recipients.first_opened_at,
    recipients.first_clicked_at,
    unsubscribers.customer_id is not null as unsubscribed,
    cast(coalesce(customer_purchases.purchases, 0) as {{ dbt.type_bigint() }}) as purchases,
    cast(coalesce(customer_purchases.revenue, 0) as decimal(38, 2)) as revenue,
    cast(
        case
            when customer_purchases.has_direct = 1 then 'direct'
            when customer_purchases.has_assisted = 1 then 'assisted'
        end as {{ dbt.type_string() }}
    ) as attribution
from recipients
{{ left_join_on('recipients', ['mailing_names', 'mailings'], ['mailing_id']) }}
{{ left_join_on('recipients', ['customer_purchases', 'unsubscribers'], ['mailing_id', 'customer_id']) }}
