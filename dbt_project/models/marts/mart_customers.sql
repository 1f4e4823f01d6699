-- One row per customer with a dispatch (sent or skipped) or a purchase (reports.md,
-- mart_customers). Messages are sent dispatches by channel; last_* are the latest proof of
-- delivery, human open (or click) and click over the customer's messages (int_messages). Each
-- purchase counts once, with the attribution of int_purchase_attribution (direct if any mailing
-- claims it as direct, else assisted, else organic; returns are organic), so revenue = direct +
-- assisted + organic revenue. unsubscribed_channels: channels with a channel-wide unsubscribe
-- attributed to the customer (int_opt_outs); suppressed_channels: channels on which an address
-- the customer was mailed at is on the suppression list (int_suppressions). Both are sorted,
-- comma-separated, empty when none. in_global_holdout: the customer is in the global control
-- group now (a holdout period without valid_to). No contact data: customer_id only.
with

dispatches as (

    select * from {{ ref('fct_dispatches') }}

),

messages as (

    select * from {{ ref('int_messages') }}
    where dispatch_status = 'sent'

),

purchases as (

    select * from {{ ref('int_purchase_attribution') }}
    where customer_id is not null

),

opt_outs as (

    select * from {{ ref('int_opt_outs') }}

),

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

suppressions as (

    select * from {{ ref('int_suppressions') }}

),

held_out as (

    -- a holdout period the latest export leaves open (no valid_to): held out now
    select distinct customer_id
    from {{ ref('int_global_holdout_periods') }}
    where valid_to is null

),

customers as (

    select customer_id from dispatches
    union
    select customer_id from purchases

),

message_summary as (

    select
        customer_id,
        min(dispatched_at) as first_messaged_at,
        count(case when channel = 'email' then 1 end) as messages_email,
        count(case when channel = 'sms' then 1 end) as messages_sms,
        count(case when channel = 'push' then 1 end) as messages_push,
        max(delivered_at) as last_delivered_at,
        max(last_opened_at) as last_opened_at,
        max(last_clicked_at) as last_clicked_at
    from messages
    group by customer_id

),

purchase_summary as (

    select
        customer_id,
        count(case when is_purchase then 1 end) as purchases,
        sum(revenue) as revenue,
        sum(case when attribution = 'direct' then revenue else 0 end) as direct_revenue,
        sum(case when attribution = 'assisted' then revenue else 0 end) as assisted_revenue,
        sum(case when attribution = 'organic' then revenue else 0 end) as organic_revenue
    from purchases
    group by customer_id

),

unsubscribed as (

    select distinct
        customer_id,
        channel
    from opt_outs
    where event_type = 'unsubscribed' and unsubscribe_scope = 'channel' and customer_id is not null

),

suppressed as (

    select distinct
        recipients.customer_id,
        recipients.channel
    from recipients
    inner join suppressions
        on
            recipients.contact_hash = suppressions.contact_hash
            and recipients.channel = suppressions.channel

),

unsubscribed_lists as (

    select
        customer_id,
        {{ dbt.listagg('channel', "','", 'order by channel') }} as channels
    from unsubscribed
    group by customer_id

),

suppressed_lists as (

    select
        customer_id,
        {{ dbt.listagg('channel', "','", 'order by channel') }} as channels
    from suppressed
    group by customer_id

)

select
    cast(customers.customer_id as {{ dbt.type_string() }}) as customer_id,
    message_summary.first_messaged_at,
    cast(coalesce(message_summary.messages_email, 0) as {{ dbt.type_bigint() }}) as messages_email,
    cast(coalesce(message_summary.messages_sms, 0) as {{ dbt.type_bigint() }}) as messages_sms,
    cast(coalesce(message_summary.messages_push, 0) as {{ dbt.type_bigint() }}) as messages_push,
    message_summary.last_delivered_at,
    message_summary.last_opened_at,
    message_summary.last_clicked_at,
    cast(coalesce(purchase_summary.purchases, 0) as {{ dbt.type_bigint() }}) as purchases,
    cast(coalesce(purchase_summary.revenue, 0) as decimal(38, 2)) as revenue,
    cast(coalesce(purchase_summary.direct_revenue, 0) as decimal(38, 2)) as direct_revenue,
    cast(coalesce(purchase_summary.assisted_revenue, 0) as decimal(38, 2)) as assisted_revenue,
    cast(coalesce(purchase_summary.organic_revenue, 0) as decimal(38, 2)) as organic_revenue,
    cast(coalesce(unsubscribed_lists.channels, '') as {{ dbt.type_string() }}) as unsubscribed_channels,
    cast(coalesce(suppressed_lists.channels, '') as {{ dbt.type_string() }}) as suppressed_channels,
    held_out.customer_id is not null as in_global_holdout
from customers
{{ left_join_on(
    'customers',
    ['message_summary', 'purchase_summary', 'unsubscribed_lists', 'suppressed_lists', 'held_out'],
    ['customer_id']
) }}
