-- One row per provider record as a canonical event (feeds.md, "How provider records map to
-- canonical event types"), deduplicated: a retried SendGrid sg_event_id, a re-sent push or
-- canonical event or Twilio click counts once (the first copy loaded wins), a Twilio message is
-- its newest snapshot. Incremental by partition_date, the UTC date a record belongs to for good
-- (its event time; a Twilio message's creation, shared by all its snapshots), so every copy of a
-- record falls in the same partition (macros/incremental.sql). Dispatch matching, error
-- categories and links are derived downstream (int_provider_events), where they stay current.
-- event_type: accepted (SendGrid processed, Twilio sent, push sent), pending, delivered, opened,
-- clicked, soft_bounced, hard_bounced, failed, unsubscribed, spam_complaint, resubscribed.
-- depends_on: {{ ref('stg_marketing__mailings') }} (lookback_days: the longest attribution window)

{%- set sources = [
    ref('stg_sendgrid__events'), ref('stg_twilio__messages'), ref('stg_twilio__clicks'),
    ref('stg_push__events'), ref('stg_canonical__events'),
] %}

with

sendgrid_events as (

    {{ with_partition_date(ref('stg_sendgrid__events'), 'occurred_at') }}

),

twilio_messages as (

    select
        *,
        {{ date_of('coalesce(created_at, sent_at, updated_at)') }} as partition_date,
        -- the body only where an opt-out keyword can be: the keyword test (upper, trim,
        -- translate of the whole body) then costs nothing on outbound messages, even where the
        -- optimizer evaluates it before the direction filter (DuckDB: in the shared CTE)
        case when direction = 'inbound' then body end as inbound_body
    from {{ ref('stg_twilio__messages') }}

),

twilio_clicks as (

    {{ with_partition_date(ref('stg_twilio__clicks'), 'clicked_at') }}

),

push_events as (

    {{ with_partition_date(ref('stg_push__events'), 'occurred_at') }}

),

canonical_events as (

    {{ with_partition_date(ref('stg_canonical__events'), 'occurred_at') }}

),

{% if is_incremental() %}
touched_dates as (

    {%- for relation in ['sendgrid_events', 'twilio_messages', 'twilio_clicks', 'push_events',
                         'canonical_events'] %}
    select partition_date from {{ relation }}
    where _ingested_at > {{ fact_watermark() }}
    {%- if not loop.last %}
    union
    {%- endif %}
    {%- endfor %}

),
{% endif %}

sendgrid_ranked as (

    -- SendGrid retries webhook batches: the first copy of an sg_event_id wins
    {{ first_copy_ranked('sendgrid_events', 'event_id') }}

),

twilio_ranked as (

    -- the newest date_updated is the message's state; a tie goes to the status that ranks
    -- higher in the final-status precedence
    select
        *,
        row_number() over (
            partition by message_sid
            order by
                updated_at desc nulls last,
                case message_status
                    when 'read' then 6
                    when 'delivered' then 5
                    when 'undelivered' then 4
                    when 'failed' then 4
                    when 'canceled' then 4
                    when 'received' then 4
                    when 'sent' then 3
                    when 'sending' then 2
                    when 'receiving' then 2
                    else 1
                end desc,
                {{ load_order('desc') }}
        ) as copy_rank
    from twilio_messages
    where {{ in_fact_batch('twilio_messages.partition_date') }}

),

clicks_ranked as (

    {{ first_copy_ranked('twilio_clicks', 'click_id') }}

),

push_ranked as (

    -- the push feed has no event id: one event per message, type and time
    {{ first_copy_ranked('push_events', 'event_id') }}

),

canonical_ranked as (

    {{ first_copy_ranked('canonical_events', 'provider_event_id') }}

),

sendgrid_mapped as (

    select
        'sendgrid_events' as source_feed,
        partition_date,
        event_id as source_event_id,
        'sendgrid' as provider,
        'email' as channel,
        event_name as source_event_name,
        case event_name
            when 'processed' then 'accepted'
            when 'dropped' then 'failed'
            when 'delivered' then 'delivered'
            when 'deferred' then 'pending'
            when 'bounce' then case when bounce_type = 'blocked' then 'soft_bounced' else 'hard_bounced' end
            when 'open' then 'opened'
            when 'click' then 'clicked'
            when 'spamreport' then 'spam_complaint'
            when 'unsubscribe' then 'unsubscribed'
            when 'group_unsubscribe' then 'unsubscribed'
            when 'group_resubscribe' then 'resubscribed'
        end as event_type,
        occurred_at,
        provider_message_id,
        email_hash as contact_hash,
        email_domain,
        (event_name = 'open' and is_machine_open) as is_machine_open,
        case event_name
            when 'unsubscribe' then 'channel'
            when 'group_unsubscribe' then 'category'
        end as unsubscribe_scope,
        url,
        cast(null as {{ dbt.type_string() }}) as error_code,
        reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        mailing_id as reported_mailing_id,
        customer_id as reported_customer_id
    from sendgrid_ranked
    where copy_rank = 1

),

twilio_outbound_mapped as (

    -- one event per message: its latest state (stg_twilio__messages keeps the newest snapshot)
    select
        'twilio_messages' as source_feed,
        partition_date,
        message_sid as source_event_id,
        'twilio' as provider,
        'sms' as channel,
        message_status as source_event_name,
        case
            when message_status in ('delivered', 'read') then 'delivered'
            when message_status = 'sent' then 'accepted'
            when message_status in ('accepted', 'scheduled', 'queued', 'sending') then 'pending'
            when message_status in ('undelivered', 'failed', 'canceled') then 'failed'
        end as event_type,
        coalesce(updated_at, sent_at, created_at) as occurred_at,
        message_sid as provider_message_id,
        to_hash as contact_hash,
        cast(null as {{ dbt.type_string() }}) as email_domain,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_scope,
        cast(null as {{ dbt.type_string() }}) as url,
        error_code,
        error_message as reason,
        num_segments as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from twilio_ranked
    where copy_rank = 1 and direction like 'outbound%'

),

twilio_opt_outs as (

    -- an inbound opt-out keyword unsubscribes the sender's number from SMS; it names no message
    select
        'twilio_messages' as source_feed,
        partition_date,
        message_sid as source_event_id,
        'twilio' as provider,
        'sms' as channel,
        'inbound_opt_out' as source_event_name,
        'unsubscribed' as event_type,
        coalesce(sent_at, created_at, updated_at) as occurred_at,
        cast(null as {{ dbt.type_string() }}) as provider_message_id,
        from_hash as contact_hash,
        cast(null as {{ dbt.type_string() }}) as email_domain,
        false as is_machine_open,
        'channel' as unsubscribe_scope,
        cast(null as {{ dbt.type_string() }}) as url,
        cast(null as {{ dbt.type_string() }}) as error_code,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from twilio_ranked
    where
        copy_rank = 1
        and direction = 'inbound'
        and {{ is_sms_opt_out('inbound_body') }}

),

twilio_clicks_mapped as (

    select
        'twilio_clicks' as source_feed,
        partition_date,
        click_id as source_event_id,
        'twilio' as provider,
        'sms' as channel,
        event_type as source_event_name,
        'clicked' as event_type,
        clicked_at as occurred_at,
        message_sid as provider_message_id,
        to_hash as contact_hash,
        cast(null as {{ dbt.type_string() }}) as email_domain,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_scope,
        url,
        cast(null as {{ dbt.type_string() }}) as error_code,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from clicks_ranked
    where copy_rank = 1

),

push_mapped as (

    select
        'push_events' as source_feed,
        partition_date,
        event_id as source_event_id,
        'push' as provider,
        'push' as channel,
        event_name as source_event_name,
        case event_name
            when 'sent' then 'accepted'
            when 'delivered' then 'delivered'
            when 'opened' then 'opened'
            when 'failed' then 'failed'
        end as event_type,
        occurred_at,
        message_id as provider_message_id,
        cast(null as {{ dbt.type_string() }}) as contact_hash,
        cast(null as {{ dbt.type_string() }}) as email_domain,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_scope,
        cast(null as {{ dbt.type_string() }}) as url,
        error as error_code,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from push_ranked
    where copy_rank = 1

),

canonical_mapped as (

    select
        'events' as source_feed,
        partition_date,
        event_id as source_event_id,
        provider,
        channel,
        event_type as source_event_name,
        event_type,
        occurred_at,
        provider_message_id,
        cast(null as {{ dbt.type_string() }}) as contact_hash,
        cast(null as {{ dbt.type_string() }}) as email_domain,
        false as is_machine_open,
        case when event_type = 'unsubscribed' then 'channel' end as unsubscribe_scope,
        url,
        error_code,
        reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from canonical_ranked
    where copy_rank = 1

),

unioned as (

    select * from sendgrid_mapped
    union all
    select * from twilio_outbound_mapped
    union all
    select * from twilio_opt_outs
    union all
    select * from twilio_clicks_mapped
    union all
    select * from push_mapped
    union all
    select * from canonical_mapped

)

select
    {{ surrogate_key(['source_feed', 'source_event_id']) }} as provider_event_key,
    source_feed,
    source_event_id,
    provider,
    channel,
    source_event_name,
    event_type,
    occurred_at,
    provider_message_id,
    contact_hash,
    email_domain,
    is_machine_open,
    unsubscribe_scope,
    url,
    error_code,
    reason,
    segments,
    reported_mailing_id,
    reported_customer_id,
    partition_date,
    {{ source_loaded_through(sources) }} as _source_loaded_through
from unioned
where event_type is not null
