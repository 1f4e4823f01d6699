{{ config(meta={'dagster': {'ref': {'name': 'mart_channel_daily'}}}) }}
-- Cross-mart identity (issue 13): mart_channel_daily summed over dates equals the per-mailing
-- marts summed over the channel's mailings. Every channel: sent and cost = mart_mailing_roi's
-- messages and cost. SMS: delivered, soft and hard bounces = mart_sms_delivery's. E-mail: the
-- same = mart_email_domains' summed over domains. Direct purchases count once per purchase in
-- mart_channel_daily but once per claiming mailing in mart_mailing_roi: never more. Returns the
-- channels whose totals differ.
with

daily as (

    select
        channel,
        sum(sent) as sent,
        sum(delivered) as delivered,
        sum(soft_bounces) as soft_bounces,
        sum(hard_bounces) as hard_bounces,
        sum(cost) as total_cost,
        sum(direct_purchases) as direct_purchases
    from {{ ref('mart_channel_daily') }}
    group by channel

),

roi as (

    select
        channel,
        sum(messages) as sent,
        sum(cost) as total_cost,
        sum(direct_purchases) as direct_purchases
    from {{ ref('mart_mailing_roi') }}
    group by channel

),

statuses as (

    select
        'sms' as channel,
        sum(delivered) as delivered,
        sum(soft_bounces) as soft_bounces,
        sum(hard_bounces) as hard_bounces
    from {{ ref('mart_sms_delivery') }}
    union all
    select
        'email' as channel,
        sum(delivered) as delivered,
        sum(soft_bounces) as soft_bounces,
        sum(hard_bounces) as hard_bounces
    from {{ ref('mart_email_domains') }}

),

channels as (

    select channel from daily
    union
    select channel from roi
    where sent > 0

)

select
    channels.channel,
    daily.sent,
    roi.sent as roi_messages,
    daily.total_cost,
    roi.total_cost as roi_cost,
    daily.delivered,
    statuses.delivered as mailings_delivered
from channels
{{ left_join_on('channels', ['daily', 'roi', 'statuses'], ['channel']) }}
where
    coalesce(daily.sent, 0) <> coalesce(roi.sent, 0)
    or coalesce(daily.total_cost, 0) <> coalesce(roi.total_cost, 0)
    or coalesce(daily.direct_purchases, 0) > coalesce(roi.direct_purchases, 0)
    or (
        statuses.channel is not null
        and (
            coalesce(daily.delivered, 0) <> coalesce(statuses.delivered, 0)
            or coalesce(daily.soft_bounces, 0) <> coalesce(statuses.soft_bounces, 0)
            or coalesce(daily.hard_bounces, 0) <> coalesce(statuses.hard_bounces, 0)
        )
    )
