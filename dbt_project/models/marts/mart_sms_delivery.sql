-- One row per SMS mailing: every sent message in exactly one of delivered, sent_no_receipt,
-- queued, undelivered (its final status); undelivered split by the error category of its
-- code (seed sms_error_codes; not listed: other_error). Soft bounces = expired, hard bounces =
-- routing_error + rejected. segments from int_sms_segments (provider's count, else the body's).
with

mailings as (

    select * from {{ ref('int_mailings') }}
    where channel = 'sms'

),

messages as (

    select * from {{ ref('int_messages') }}
    where channel = 'sms'

),

sms_segments as (

    select * from {{ ref('int_sms_segments') }}

),

classified as (

    select
        mailing_id,
        dispatch_id,
        dispatch_status,
        final_status,
        case when final_status = 'failed' then coalesce(error_category, 'other_error') end as undelivered_category
    from messages

),

message_counts as (

    select
        mailing_id,
        count(case when dispatch_status = 'sent' then 1 end) as messages,
        count(case when final_status = 'delivered' then 1 end) as delivered,
        count(case when final_status = 'sent' then 1 end) as sent_no_receipt,
        count(case when final_status = 'queued' then 1 end) as queued,
        count(case when final_status = 'failed' then 1 end) as undelivered,
        count(case when undelivered_category = 'routing_error' then 1 end) as routing_error,
        count(case when undelivered_category = 'expired' then 1 end) as expired,
        count(case when undelivered_category = 'rejected' then 1 end) as rejected,
        count(case when undelivered_category not in ('routing_error', 'expired', 'rejected') then 1 end)
            as other_error,
        count(case when dispatch_status = 'skipped' then 1 end) as skipped
    from classified
    group by mailing_id

),

segment_counts as (

    select
        mailing_id,
        sum(segments) as segments
    from sms_segments
    group by mailing_id

),

counted as (

    select
        mailings.mailing_id,
        coalesce(message_counts.messages, 0) as messages,
        coalesce(segment_counts.segments, 0) as segments,
        coalesce(message_counts.delivered, 0) as delivered,
        coalesce(message_counts.sent_no_receipt, 0) as sent_no_receipt,
        coalesce(message_counts.queued, 0) as queued,
        coalesce(message_counts.undelivered, 0) as undelivered,
        coalesce(message_counts.routing_error, 0) as routing_error,
        coalesce(message_counts.expired, 0) as expired,
        coalesce(message_counts.rejected, 0) as rejected,
        coalesce(message_counts.other_error, 0) as other_error,
        coalesce(message_counts.skipped, 0) as skipped
    from mailings
    {{ left_join_on('mailings', ['message_counts', 'segment_counts'], ['mailing_id']) }}

),

named as (

    {{ with_mailing_name('counted') }}

)

select
    {{ cast_columns(['mailing_id', 'mailing_name'], dbt.type_string()) }},
    {{ cast_columns([
        'messages', 'segments', 'delivered', 'sent_no_receipt', 'queued', 'undelivered',
        'routing_error', 'expired', 'rejected', 'other_error'
    ], dbt.type_bigint()) }},
    cast(expired as {{ dbt.type_bigint() }}) as soft_bounces,
    cast(routing_error + rejected as {{ dbt.type_bigint() }}) as hard_bounces,
    cast(skipped as {{ dbt.type_bigint() }}) as skipped
from named
