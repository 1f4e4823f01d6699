-- One row per unsubscribe or spam complaint, attributed to a mailing (reports.md,
-- mart_mailing_funnel `unsubscribed`): one the provider ties to a message belongs to that
-- message's mailing; one it does not (an SMS STOP reply, an event without a message id) goes
-- to the last mailing of its channel dispatched (sent) to that contact at or before it.
-- Events that can be attributed to no mailing stay, with mailing_id null.
with

events as (

    select * from {{ ref('int_provider_events') }}
    where event_type in ('unsubscribed', 'spam_complaint')

),

dispatches as (

    select * from {{ ref('int_dispatches') }}
    where dispatch_status = 'sent'

),

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

tied as (

    select
        provider_event_key,
        mailing_id,
        customer_id,
        dispatch_id,
        'message' as attributed_by
    from events
    where
        provider_message_id is not null
        and mailing_id is not null

),

untied_candidates as (

    select
        events.provider_event_key,
        dispatches.mailing_id,
        dispatches.customer_id,
        dispatches.dispatch_id,
        row_number() over (
            partition by events.provider_event_key
            order by dispatches.dispatched_at desc, dispatches.dispatch_id desc
        ) as dispatch_rank
    from events
    inner join dispatches
        on
            events.contact_hash = dispatches.contact_hash
            and events.channel = dispatches.channel
            and events.occurred_at >= dispatches.dispatched_at
    where events.provider_event_key not in (select tied.provider_event_key from tied)

),

attributed as (

    select * from tied
    union all
    select
        provider_event_key,
        mailing_id,
        customer_id,
        dispatch_id,
        'last_dispatch' as attributed_by
    from untied_candidates
    where dispatch_rank = 1

)

select
    events.provider_event_key,
    events.provider,
    events.channel,
    events.event_type,
    events.unsubscribe_scope,
    events.occurred_at,
    events.contact_hash,
    attributed.mailing_id,
    attributed.customer_id,
    attributed.dispatch_id,
    attributed.attributed_by,
    recipients.grp,
    recipients.variant
from events
left join attributed
    on events.provider_event_key = attributed.provider_event_key
left join recipients
    on
        attributed.mailing_id = recipients.mailing_id
        and attributed.customer_id = recipients.customer_id
