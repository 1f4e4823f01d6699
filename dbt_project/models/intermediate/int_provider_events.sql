-- Every canonical provider event (fct_provider_events) joined to its dispatch by provider and
-- message id, with what is derived from current reference data: the SMS error category
-- (seed sms_error_codes), the bounce type and the normalized link. Incremental by
-- partition_date, the event's day in fct_provider_events: a run rebuilds the days holding events
-- rebuilt since the last build or events of a dispatch rebuilt since (macros/incremental_rollups.sql).
with

dispatches as (

    select * from {{ ref('int_dispatches') }}

),

events as (

    select * from {{ ref('fct_provider_events') }}

),

sms_error_codes as (

    select * from {{ ref('sms_error_codes') }}

),

{% if is_incremental() %}
rebuilt_dates as (

    {{ rebuilt_since_watermark('events') }}
    union
    {{ units_touched_by('events', 'dispatches', ['provider', 'provider_message_id']) }}
    union
    select partition_date from events
    where {{ built_by_other_code() }}

),
{% endif %}

matched as (

    select
        events.*,
        dispatches.dispatch_id,
        dispatches.mailing_id as dispatch_mailing_id,
        dispatches.customer_id as dispatch_customer_id,
        dispatches.contact_hash as dispatch_contact_hash,
        sms_error_codes.error_category as listed_error_category
    from events
    left join dispatches
        on
            events.provider = dispatches.provider
            and events.provider_message_id = dispatches.provider_message_id
            and dispatches.dispatch_status = 'sent'
    left join sms_error_codes
        on
            events.provider = sms_error_codes.provider
            and events.error_code = sms_error_codes.error_code
    {%- if is_incremental() %}
    where events.partition_date in (select rebuilt_dates.partition_date from rebuilt_dates)
    {%- endif %}

),

classified as (

    select
        *,
        case
            when channel = 'sms' and event_type = 'failed'
                then coalesce(listed_error_category, 'other_error')
        end as error_category
    from matched

)

select
    provider_event_key,
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
    segments,
    partition_date,
    {{ rollup_stamps([ref('fct_provider_events'), ref('int_dispatches')]) }}
from classified
{{ order_by_unit() }}
