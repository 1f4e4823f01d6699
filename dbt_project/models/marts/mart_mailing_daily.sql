-- One row per mailing and date (reporting time zone), from the send date to the last date of
-- the window [window_start_at, window_end_at) (end exclusive; never-sent mailings have no
-- rows). Per date: messages sent and delivered, human opens and clicks (events and distinct
-- customers; SMS has no opens: null), and the recipients' purchases and revenue (sales -
-- returns) inside the window on the date they were made. Activity outside the window's dates
-- is not shown.
with

mailing_names as (

    select * from {{ ref('int_mailing_names') }}

),

mailings as (

    select * from {{ ref('int_mailings') }}
    where window_start_at is not null

),

messages as (

    select * from {{ ref('int_messages') }}
    where dispatch_status = 'sent'

),

events as (

    select * from {{ ref('int_provider_events') }}
    where
        is_matched_to_dispatch
        and (event_type = 'clicked' or (event_type = 'opened' and not is_machine_open))

),

mailing_purchases as (

    select * from {{ ref('int_mailing_purchases') }}
    where is_recipient

),

offsets as (

    select generated_number - 1 as day_offset
    from ({{ dbt.generate_series(1000) }}) as series

),

bounds as (

    select
        mailing_id,
        channel,
        {{ date_of(to_reporting_tz('window_start_at')) }} as first_date,
        {{ to_reporting_tz('window_end_at') }} as window_end_local
    from mailings

),

days as (

    select
        bounds.mailing_id,
        bounds.channel,
        {{ date_of(dbt.dateadd('day', 'offsets.day_offset', 'bounds.first_date')) }} as report_date,
        bounds.window_end_local
    from bounds
    cross join offsets

),

mailing_days as (

    -- a date belongs to the window when it starts before the window ends
    select
        mailing_id,
        channel,
        report_date
    from days
    where cast(report_date as {{ dbt.type_timestamp() }}) < window_end_local

),

sends as (

    select
        mailing_id,
        {{ date_of(to_reporting_tz('dispatched_at')) }} as report_date,
        count(*) as sent
    from messages
    group by mailing_id, {{ date_of(to_reporting_tz('dispatched_at')) }}

),

deliveries as (

    select
        mailing_id,
        {{ date_of(to_reporting_tz('delivered_at')) }} as report_date,
        count(*) as delivered
    from messages
    where delivered_at is not null
    group by mailing_id, {{ date_of(to_reporting_tz('delivered_at')) }}

),

engagement as (

    select
        mailing_id,
        {{ date_of(to_reporting_tz('occurred_at')) }} as report_date,
        count(case when event_type = 'opened' then 1 end) as opens,
        count(distinct case when event_type = 'opened' then customer_id end) as unique_openers,
        count(case when event_type = 'clicked' then 1 end) as clicks,
        count(distinct case when event_type = 'clicked' then customer_id end) as unique_clickers
    from events
    group by mailing_id, {{ date_of(to_reporting_tz('occurred_at')) }}

),

sales as (

    select
        mailing_id,
        {{ date_of(to_reporting_tz('purchased_at')) }} as report_date,
        count(case when is_purchase then 1 end) as purchases,
        sum(revenue) as revenue
    from mailing_purchases
    group by mailing_id, {{ date_of(to_reporting_tz('purchased_at')) }}

)

select
    cast(mailing_days.mailing_id as {{ dbt.type_string() }}) as mailing_id,
    cast(mailing_names.mailing_name as {{ dbt.type_string() }}) as mailing_name,
    cast(mailing_days.report_date as date) as date, -- noqa: RF04
    cast(coalesce(sends.sent, 0) as {{ dbt.type_bigint() }}) as sent,
    cast(coalesce(deliveries.delivered, 0) as {{ dbt.type_bigint() }}) as delivered,
    cast(
        case when mailing_days.channel <> 'sms' then coalesce(engagement.opens, 0) end
        as {{ dbt.type_bigint() }}
    ) as opens,
    cast(
        case when mailing_days.channel <> 'sms' then coalesce(engagement.unique_openers, 0) end
        as {{ dbt.type_bigint() }}
    ) as unique_openers,
    cast(coalesce(engagement.clicks, 0) as {{ dbt.type_bigint() }}) as clicks,
    cast(coalesce(engagement.unique_clickers, 0) as {{ dbt.type_bigint() }}) as unique_clickers,
    cast(coalesce(sales.purchases, 0) as {{ dbt.type_bigint() }}) as purchases,
    cast(coalesce(sales.revenue, 0) as decimal(38, 2)) as revenue
from mailing_days
left join mailing_names
    on mailing_days.mailing_id = mailing_names.mailing_id
{{ left_join_on(
    'mailing_days',
    ['sends', 'deliveries', 'engagement', 'sales'],
    ['mailing_id', 'report_date']
) }}
