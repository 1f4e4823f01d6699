-- Every provider record as a canonical event (feeds.md, "How provider records map to
-- canonical event types"), joined to its dispatch by provider and message id.
-- event_type: accepted (SendGrid processed, Twilio sent, push sent: no funnel stage of its own),
-- pending, delivered, opened, clicked, soft_bounced, hard_bounced, failed, unsubscribed,
-- spam_complaint, resubscribed.

with

dispatches as (

    select * from {{ ref('int_dispatches') }}

),

sendgrid_events as (

    select * from {{ ref('stg_sendgrid__events') }}

),

twilio_messages as (

    select * from {{ ref('stg_twilio__messages') }}

),

twilio_clicks as (

    select * from {{ ref('stg_twilio__clicks') }}

),

push_events as (

    select * from {{ ref('stg_push__events') }}

),

canonical_events as (

    select * from {{ ref('stg_canonical__events') }}

),

sms_error_codes as (

    select * from {{ ref('sms_error_codes') }}

),

sendgrid_mapped as (

    select
        'sendgrid_events' as source_feed,
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
    from sendgrid_events

),

twilio_outbound_mapped as (

    -- one event per message: its latest state (stg_twilio__messages keeps the newest snapshot)
    select
        'twilio_messages' as source_feed,
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
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_scope,
        cast(null as {{ dbt.type_string() }}) as url,
        error_code,
        error_message as reason,
        num_segments as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from twilio_messages
    where direction like 'outbound%'

),

twilio_opt_outs as (

    -- an inbound opt-out keyword unsubscribes the sender's number from SMS; it names no message
    select
        'twilio_messages' as source_feed,
        message_sid as source_event_id,
        'twilio' as provider,
        'sms' as channel,
        'inbound_opt_out' as source_event_name,
        'unsubscribed' as event_type,
        coalesce(sent_at, created_at, updated_at) as occurred_at,
        cast(null as {{ dbt.type_string() }}) as provider_message_id,
        from_hash as contact_hash,
        false as is_machine_open,
        'channel' as unsubscribe_scope,
        cast(null as {{ dbt.type_string() }}) as url,
        cast(null as {{ dbt.type_string() }}) as error_code,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from twilio_messages
    where
        direction = 'inbound'
        and upper(trim(body)) in ('STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT')

),

twilio_clicks_mapped as (

    select
        'twilio_clicks' as source_feed,
        click_id as source_event_id,
        'twilio' as provider,
        'sms' as channel,
        event_type as source_event_name,
        'clicked' as event_type,
        clicked_at as occurred_at,
        message_sid as provider_message_id,
        to_hash as contact_hash,
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_scope,
        url,
        cast(null as {{ dbt.type_string() }}) as error_code,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from twilio_clicks

),

push_mapped as (

    select
        'push_events' as source_feed,
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
        false as is_machine_open,
        cast(null as {{ dbt.type_string() }}) as unsubscribe_scope,
        cast(null as {{ dbt.type_string() }}) as url,
        error as error_code,
        cast(null as {{ dbt.type_string() }}) as reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from push_events

),

canonical_mapped as (

    select
        'events' as source_feed,
        event_id as source_event_id,
        provider,
        channel,
        event_type as source_event_name,
        event_type,
        occurred_at,
        provider_message_id,
        cast(null as {{ dbt.type_string() }}) as contact_hash,
        false as is_machine_open,
        case when event_type = 'unsubscribed' then 'channel' end as unsubscribe_scope,
        url,
        error_code,
        reason,
        cast(null as {{ dbt.type_bigint() }}) as segments,
        cast(null as {{ dbt.type_string() }}) as reported_mailing_id,
        cast(null as {{ dbt.type_string() }}) as reported_customer_id
    from canonical_events

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

),

matched as (

    select
        unioned.*,
        dispatches.dispatch_id,
        dispatches.mailing_id as dispatch_mailing_id,
        dispatches.customer_id as dispatch_customer_id,
        dispatches.contact_hash as dispatch_contact_hash,
        sms_error_codes.error_category as listed_error_category
    from unioned
    left join dispatches
        on
            unioned.provider = dispatches.provider
            and unioned.provider_message_id = dispatches.provider_message_id
            and dispatches.dispatch_status = 'sent'
    left join sms_error_codes
        on
            unioned.provider = sms_error_codes.provider
            and unioned.error_code = sms_error_codes.error_code

),

classified as (

    select
        *,
        case
            when channel = 'sms' and event_type = 'failed'
                then coalesce(listed_error_category, 'other_error')
        end as error_category
    from matched
    where event_type is not null

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
    dispatch_id,
    dispatch_id is not null as is_matched_to_dispatch,
    coalesce(dispatch_mailing_id, reported_mailing_id) as mailing_id,
    coalesce(dispatch_customer_id, reported_customer_id) as customer_id,
    coalesce(contact_hash, dispatch_contact_hash) as contact_hash,
    coalesce(is_machine_open, false) as is_machine_open,
    unsubscribe_scope,
    url,
    case when event_type = 'clicked' then {{ normalize_link('url') }} end as link,
    error_code,
    error_category,
    case
        when event_type = 'hard_bounced' then 'hard'
        when event_type = 'soft_bounced' then 'soft'
        when error_category in ('routing_error', 'rejected') then 'hard'
        when error_category = 'expired' then 'soft'
    end as bounce_type,
    reason,
    segments
from classified
