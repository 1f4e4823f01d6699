-- What each sent message cost (feeds.md, `message_prices`; reports.md, mart_mailing_roi): the
-- price of its channel and provider with the latest valid_from at or before its dispatch, times
-- its billable units (the SMS segments of int_sms_segments for a price per segment, else 1
-- message). No price applies (no price row, or the message was sent before the first one):
-- unit, price and cost are null. A price per segment of a message whose segments are unknown:
-- billable_units and cost are null. The only place a message's cost is computed.
-- `cost` is the name reports.md fixes (noqa RF04 below).
with

-- every sent message, as int_message_outcomes defines them
messages as (

    select * from {{ ref('int_message_outcomes') }}

),

prices as (

    select * from {{ ref('int_message_prices') }}

),

segments as (

    select * from {{ ref('int_sms_segments') }}

),

priced as (

    select
        messages.dispatch_id,
        messages.mailing_id,
        messages.customer_id,
        messages.channel,
        messages.provider,
        messages.dispatched_at,
        prices.unit,
        prices.price,
        case
            when prices.unit = 'segment' then segments.segments
            else 1
        end as billable_units
    from messages
    left join prices
        on
            messages.channel = prices.channel
            and messages.provider = prices.provider
            and messages.dispatched_at >= prices.valid_from
            and (prices.valid_to is null or messages.dispatched_at < prices.valid_to)
    left join segments
        on messages.dispatch_id = segments.dispatch_id

)

select
    dispatch_id,
    mailing_id,
    customer_id,
    channel,
    provider,
    dispatched_at,
    unit,
    cast(billable_units as {{ dbt.type_bigint() }}) as billable_units,
    price,
    cast(price * billable_units as decimal(18, 6)) as cost -- noqa: RF04
from priced
