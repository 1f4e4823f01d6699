-- One row per sent SMS message with its segment count (reports.md, mart_sms_delivery
-- `segments`): the provider's count, else computed from the mailing's body (GSM-7: 160 in one
-- segment, 153 per segment beyond, extension characters take two septets; any character
-- outside GSM-7 makes it UCS-2: 70 and 67 UTF-16 code units), else the platform's count when
-- the mailing has no body. The only place segments are computed; macros/sms_segments.sql
-- holds the arithmetic.
with

messages as (

    select * from {{ ref('int_messages') }}
    where channel = 'sms' and dispatch_status = 'sent'

),

mailings as (

    select * from {{ ref('int_mailings') }}

),

events as (

    select * from {{ ref('int_provider_events') }}
    where is_matched_to_dispatch and channel = 'sms'

),

dispatches as (

    select * from {{ ref('int_dispatches') }}

),

provider_counts as (

    select
        dispatch_id,
        max(segments) as provider_segments
    from events
    group by dispatch_id

),

bodies as (

    select
        mailing_id,
        body,
        {{ sms_non_gsm7_chars('body') }} = 0 as is_gsm7,
        {{ sms_gsm7_septets('body') }} as gsm7_septets,
        {{ sms_ucs2_units('body') }} as ucs2_units
    from mailings
    where body is not null

),

body_segments as (

    select
        mailing_id,
        case when is_gsm7 then 'gsm7' else 'ucs2' end as body_encoding,
        case when is_gsm7 then gsm7_septets else ucs2_units end as body_units,
        case
            when is_gsm7 then {{ sms_segment_count('gsm7_septets', 160, 153) }}
            else {{ sms_segment_count('ucs2_units', 70, 67) }}
        end as body_segments
    from bodies

)

select
    messages.dispatch_id,
    messages.mailing_id,
    messages.customer_id,
    body_segments.body_encoding,
    cast(body_segments.body_units as {{ dbt.type_bigint() }}) as body_units,
    cast(body_segments.body_segments as {{ dbt.type_bigint() }}) as body_segments,
    cast(provider_counts.provider_segments as {{ dbt.type_bigint() }}) as provider_segments,
    cast(dispatches.segments as {{ dbt.type_bigint() }}) as platform_segments,
    cast(
        coalesce(provider_counts.provider_segments, body_segments.body_segments, dispatches.segments)
        as {{ dbt.type_bigint() }}
    ) as segments,
    case
        when provider_counts.provider_segments is not null then 'provider'
        when body_segments.body_segments is not null then 'body'
        when dispatches.segments is not null then 'platform'
    end as segments_source
from messages
left join provider_counts
    on messages.dispatch_id = provider_counts.dispatch_id
left join body_segments
    on messages.mailing_id = body_segments.mailing_id
left join dispatches
    on messages.dispatch_id = dispatches.dispatch_id
