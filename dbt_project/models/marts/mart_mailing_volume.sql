-- One row per mailing: how its audience splits by eligibility and what was dispatched.
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

messages as (

    select * from {{ ref('int_messages') }}

),

audience_counts as (

    select
        mailing_id,
        count(distinct case when is_audience_member then customer_id end) as audience_total,
        count(distinct case when eligibility = 'good' then customer_id end) as good_recipients,
        count(distinct case when eligibility = 'address_issue' then customer_id end) as address_issue,
        count(distinct case when eligibility = 'unsubscribed_channel' then customer_id end)
            as unsubscribed_channel,
        count(distinct case when eligibility = 'unsubscribed_category' then customer_id end)
            as unsubscribed_category,
        count(distinct case when eligibility = 'policy_blocked' then customer_id end) as policy_blocked,
        count(distinct case when eligibility = 'good' and grp = 'control' then customer_id end)
            as control_group,
        count(distinct case when is_recipient then customer_id end) as actual_recipients
    from recipients
    group by mailing_id

),

dispatch_counts as (

    select
        mailing_id,
        count(case when dispatch_status = 'skipped' then 1 end) as skipped
    from messages
    group by mailing_id

)

select
    cast(mailings.mailing_id as {{ dbt.type_string() }}) as mailing_id,
    cast(mailing_names.mailing_name as {{ dbt.type_string() }}) as mailing_name,
    cast(mailings.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(mailing_names.campaign_name as {{ dbt.type_string() }}) as campaign_name,
    cast(mailings.channel as {{ dbt.type_string() }}) as channel,
    cast(coalesce(audience_counts.audience_total, 0) as {{ dbt.type_bigint() }}) as audience_total,
    cast(coalesce(audience_counts.good_recipients, 0) as {{ dbt.type_bigint() }}) as good_recipients,
    cast(coalesce(audience_counts.address_issue, 0) as {{ dbt.type_bigint() }}) as address_issue,
    cast(coalesce(audience_counts.unsubscribed_channel, 0) as {{ dbt.type_bigint() }}) as unsubscribed_channel,
    cast(coalesce(audience_counts.unsubscribed_category, 0) as {{ dbt.type_bigint() }}) as unsubscribed_category,
    cast(coalesce(audience_counts.policy_blocked, 0) as {{ dbt.type_bigint() }}) as policy_blocked,
    cast(coalesce(audience_counts.control_group, 0) as {{ dbt.type_bigint() }}) as control_group,
    cast(coalesce(dispatch_counts.skipped, 0) as {{ dbt.type_bigint() }}) as skipped,
    cast(coalesce(audience_counts.actual_recipients, 0) as {{ dbt.type_bigint() }}) as actual_recipients
from mailings
{{ left_join_on('mailings', ['mailing_names', 'audience_counts', 'dispatch_counts'], ['mailing_id']) }}
