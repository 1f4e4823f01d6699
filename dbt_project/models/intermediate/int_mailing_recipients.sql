-- One row per mailing and customer: every audience member (any eligibility, both groups)
-- and every dispatched customer. Funnel membership (reports.md): a recipient has a sent
-- dispatch; delivered, opened and clicked roll up the customer's messages, so each stage is
-- a subset of the one before (SMS: is_opened is null). Groups are intent to treat: grp and
-- variant come from the audience, whether or not the message reached the customer.
-- Incremental by mailing: a run rebuilds the mailings with audience rows or messages rebuilt
-- since the last build, or whose channel changed (macros/incremental_rollups.sql).
{{ config(unique_key='mailing_id', partition_by='mailing_id') }}

with

mailings as (

    select * from {{ ref('int_mailings') }}

),

{% if is_incremental() %}
rebuilt_mailings as (

    {{ rebuilt_since_watermark(ref('fct_audience'), 'mailing_id') }}
    union
    {{ rebuilt_since_watermark(ref('int_messages'), 'mailing_id') }}
    union
    select built.mailing_id
    from {{ this }} as built
    inner join mailings
        on built.mailing_id = mailings.mailing_id
    where coalesce(built.channel, '') <> coalesce(mailings.channel, '')
    union
    select mailing_id from {{ ref('fct_audience') }}
    where {{ built_by_other_code() }}
    union
    select mailing_id from {{ ref('int_messages') }}
    where {{ built_by_other_code() }}

),
{% endif %}

audience as (

    select * from {{ ref('fct_audience') }}
    {%- if is_incremental() %}
    where mailing_id in (select rebuilt_mailings.mailing_id from rebuilt_mailings)
    {%- endif %}

),

messages as (

    select * from {{ ref('int_messages') }}
    {%- if is_incremental() %}
    where mailing_id in (select rebuilt_mailings.mailing_id from rebuilt_mailings)
    {%- endif %}

),

members as (

    select
        mailing_id,
        customer_id
    from audience
    union
    select
        mailing_id,
        customer_id
    from messages

),

per_customer as (

    select
        mailing_id,
        customer_id,
        count(case when dispatch_status = 'sent' then 1 end) as sent_messages,
        count(case when dispatch_status = 'skipped' then 1 end) as skipped_dispatches,
        min(case when dispatch_status = 'sent' then dispatched_at end) as first_dispatched_at,
        max(final_status_rank) as final_status_rank,
        min(delivered_at) as delivered_at,
        min(first_opened_at) as first_opened_at,
        min(first_clicked_at) as first_clicked_at,
        cast(sum(opens) as {{ dbt.type_bigint() }}) as opens,
        cast(sum(machine_opens) as {{ dbt.type_bigint() }}) as machine_opens,
        cast(sum(clicks) as {{ dbt.type_bigint() }}) as clicks
    from messages
    group by mailing_id, customer_id

),

latest_skip as (

    select
        mailing_id,
        customer_id,
        skip_reason,
        row_number() over (
            partition by mailing_id, customer_id
            order by dispatched_at desc, dispatch_id desc
        ) as skip_rank
    from messages
    where dispatch_status = 'skipped'

),

joined as (

    select
        members.mailing_id,
        members.customer_id,
        mailings.channel,
        audience.grp,
        case when audience.grp = 'treatment' then audience.variant end as variant,
        audience.eligibility,
        audience.address_hash as contact_hash,
        audience.customer_id is not null as is_audience_member,
        coalesce(per_customer.sent_messages, 0) > 0 as is_recipient,
        coalesce(per_customer.sent_messages, 0) as sent_messages,
        coalesce(per_customer.skipped_dispatches, 0) as skipped_dispatches,
        per_customer.first_dispatched_at,
        per_customer.final_status_rank,
        per_customer.delivered_at,
        per_customer.first_opened_at,
        per_customer.first_clicked_at,
        per_customer.opens,
        per_customer.machine_opens,
        per_customer.clicks,
        latest_skip.skip_reason
    from members
    left join mailings
        on members.mailing_id = mailings.mailing_id
    {{ left_join_on('members', ['audience', 'per_customer'], ['mailing_id', 'customer_id']) }}
    left join latest_skip
        on
            members.mailing_id = latest_skip.mailing_id
            and members.customer_id = latest_skip.customer_id
            and latest_skip.skip_rank = 1

)

select
    mailing_id,
    customer_id,
    channel,
    grp,
    variant,
    eligibility,
    contact_hash,
    is_audience_member,
    case
        when is_recipient then 'sent'
        when skipped_dispatches > 0 then 'skipped'
    end as dispatch_status,
    case when not is_recipient then skip_reason end as skip_reason,
    is_recipient,
    sent_messages,
    skipped_dispatches,
    first_dispatched_at,
    case final_status_rank
        when 4 then 'delivered'
        when 3 then 'failed'
        when 2 then 'sent'
        when 1 then 'queued'
    end as final_status,
    coalesce(final_status_rank = 4, false) as is_delivered,
    delivered_at,
    first_opened_at,
    case
        when channel = 'sms' then null
        else first_opened_at is not null
    end as is_opened,
    first_clicked_at,
    first_clicked_at is not null as is_clicked,
    opens,
    machine_opens,
    clicks,
    {{ rollup_stamps([ref('fct_audience'), ref('int_messages')]) }}
from joined
{{ order_by_unit('mailing_id') }}
