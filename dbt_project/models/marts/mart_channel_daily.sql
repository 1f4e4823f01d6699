-- One row per channel and reporting date of dispatch (reports.md, mart_channel_daily): the
-- messages sent that date and what became of them, whenever it happened (int_message_outcomes:
-- delivered, soft and hard bounces, unsubscribes and spam complaints attributed to them),
-- distinct customers who clicked them, and the direct purchases credited to them
-- (int_purchase_attribution: each purchase once, on the message it is credited to). cost sums
-- the messages' prices (int_message_costs), null when no price applies to any. Rates are over
-- sent (delivery) and delivered messages (clicks, unsubscribes).
with

messages as (

    select * from {{ ref('int_message_outcomes') }}

),

message_costs as (

    select * from {{ ref('int_message_costs') }}

),

direct_purchases as (

    select * from {{ ref('int_purchase_attribution') }}
    where attribution = 'direct' and credited_dispatched_at is not null

),

dated_messages as (

    select
        messages.*,
        message_costs.cost,
        {{ date_of(to_reporting_tz('messages.dispatched_at')) }} as report_date
    from messages
    left join message_costs
        on messages.dispatch_id = message_costs.dispatch_id

),

message_counts as (

    select
        channel,
        report_date,
        count(distinct mailing_id) as mailings,
        {{ message_status_counts() }},
        count(distinct case when is_clicked then customer_id end) as unique_clickers,
        count(case when has_unsubscribe then 1 end) as unsubscribes,
        count(case when has_spam_complaint then 1 end) as spam_complaints,
        sum(cost) as total_cost
    from dated_messages
    group by channel, report_date

),

direct_sales as (

    select
        credited_channel as channel,
        {{ date_of(to_reporting_tz('credited_dispatched_at')) }} as report_date,
        count(*) as direct_purchases,
        sum(revenue) as direct_revenue
    from direct_purchases
    group by credited_channel, {{ date_of(to_reporting_tz('credited_dispatched_at')) }}

)

select
    cast(message_counts.channel as {{ dbt.type_string() }}) as channel,
    cast(message_counts.report_date as date) as date, -- noqa: RF04
    cast(message_counts.mailings as {{ dbt.type_bigint() }}) as mailings,
    cast(message_counts.sent as {{ dbt.type_bigint() }}) as sent,
    cast(message_counts.delivered as {{ dbt.type_bigint() }}) as delivered,
    cast(message_counts.soft_bounces as {{ dbt.type_bigint() }}) as soft_bounces,
    cast(message_counts.hard_bounces as {{ dbt.type_bigint() }}) as hard_bounces,
    cast(message_counts.unique_clickers as {{ dbt.type_bigint() }}) as unique_clickers,
    cast(message_counts.unsubscribes as {{ dbt.type_bigint() }}) as unsubscribes,
    cast(message_counts.spam_complaints as {{ dbt.type_bigint() }}) as spam_complaints,
    cast(coalesce(direct_sales.direct_purchases, 0) as {{ dbt.type_bigint() }}) as direct_purchases,
    cast(coalesce(direct_sales.direct_revenue, 0) as decimal(38, 2)) as direct_revenue,
    cast(message_counts.total_cost as decimal(38, 6)) as cost, -- noqa: RF04
    {{ safe_divide('message_counts.delivered', 'message_counts.sent') }} as delivery_rate,
    {{ safe_divide('message_counts.unique_clickers', 'message_counts.delivered') }} as click_rate,
    {{ safe_divide('message_counts.unsubscribes', 'message_counts.delivered') }} as unsubscribe_rate
from message_counts
left join direct_sales
    on
        message_counts.channel = direct_sales.channel
        and message_counts.report_date = direct_sales.report_date
