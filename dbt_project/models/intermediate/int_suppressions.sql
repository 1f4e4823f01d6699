-- One row per contact and channel (e-mail, SMS) with at least var('hard_bounce_threshold')
-- hard bounces: the suppression list (mart_suppressions publishes it; mart_customers names each
-- customer's suppressed channels). A hard bounce is a message whose provider reported a hard bounce
-- (int_provider_events.bounce_type = 'hard') and that was not delivered in the end; a message
-- counts once, at its first hard bounce. suppressed_at is the bounce that reached the threshold.
with

events as (

    select * from {{ ref('int_provider_events') }}
    where
        bounce_type = 'hard'
        and channel in ('email', 'sms')
        and contact_hash is not null

),

messages as (

    select * from {{ ref('int_messages') }}

),

-- one key per message: its dispatch, else the provider's message id, else the event itself
keyed_events as (

    select
        events.contact_hash,
        events.channel,
        events.occurred_at,
        coalesce(
            events.dispatch_id,
            {{ dbt.concat(['events.provider', "':'", 'events.provider_message_id']) }},
            events.provider_event_key
        ) as message_key
    from events
    left join messages
        on events.dispatch_id = messages.dispatch_id
    where not coalesce(messages.is_delivered, false)

),

bounced_messages as (

    select
        contact_hash,
        channel,
        message_key,
        min(occurred_at) as bounced_at
    from keyed_events
    group by contact_hash, channel, message_key

),

numbered as (

    select
        contact_hash,
        channel,
        bounced_at,
        row_number() over (
            partition by contact_hash, channel
            order by bounced_at asc, message_key asc
        ) as bounce_number,
        count(*) over (partition by contact_hash, channel) as hard_bounces
    from bounced_messages

)

select
    {{ cast_columns(['contact_hash', 'channel'], dbt.type_string()) }},
    cast(hard_bounces as {{ dbt.type_bigint() }}) as hard_bounces,
    cast(bounced_at as {{ dbt.type_timestamp() }}) as suppressed_at
from numbered
where
    hard_bounces >= {{ var('hard_bounce_threshold') }}
    and bounce_number = {{ var('hard_bounce_threshold') }}
