-- One row per sent message (reports.md, mart_channel_daily and mart_email_domains: "messages ...
-- and what became of them"): its final status as int_messages decides it, whether it bounced
-- (undelivered, its last failure a soft or hard bounce), whether an unsubscribe or spam complaint
-- is attributed to it (int_opt_outs), and whether the provider reported it blocked (a soft bounce
-- event, SendGrid's bounce of type `blocked`) or deferred (a pending event, SendGrid `deferred`)
-- on the way, even if it was delivered in the end.
with

messages as (

    select * from {{ ref('int_messages') }}
    where dispatch_status = 'sent'

),

opt_outs as (

    select * from {{ ref('int_opt_outs') }}
    where dispatch_id is not null

),

events as (

    select * from {{ ref('int_provider_events') }}
    where is_matched_to_dispatch and event_type in ('soft_bounced', 'pending')

),

message_opt_outs as (

    select
        dispatch_id,
        max(case when event_type = 'unsubscribed' then 1 else 0 end) as has_unsubscribe,
        max(case when event_type = 'spam_complaint' then 1 else 0 end) as has_spam_complaint
    from opt_outs
    group by dispatch_id

),

message_events as (

    select
        dispatch_id,
        max(case when event_type = 'soft_bounced' then 1 else 0 end) as was_blocked,
        max(case when event_type = 'pending' then 1 else 0 end) as was_deferred
    from events
    group by dispatch_id

)

select
    messages.dispatch_id,
    messages.mailing_id,
    messages.customer_id,
    messages.channel,
    messages.provider,
    messages.dispatched_at,
    messages.final_status,
    messages.is_delivered,
    messages.is_opened,
    messages.is_clicked,
    coalesce(messages.final_status = 'failed' and messages.bounce_type = 'soft', false) as is_soft_bounce,
    coalesce(messages.final_status = 'failed' and messages.bounce_type = 'hard', false) as is_hard_bounce,
    coalesce(message_opt_outs.has_unsubscribe, 0) = 1 as has_unsubscribe,
    coalesce(message_opt_outs.has_spam_complaint, 0) = 1 as has_spam_complaint,
    coalesce(message_events.was_blocked, 0) = 1 as was_blocked,
    coalesce(message_events.was_deferred, 0) = 1 as was_deferred
from messages
{{ left_join_on('messages', ['message_opt_outs', 'message_events'], ['dispatch_id']) }}
