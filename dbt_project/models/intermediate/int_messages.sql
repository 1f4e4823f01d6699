-- One row per dispatch with the message's final status and engagement (reports.md,
-- "Final status", "Machine opens"). Providers report out of order, so the status is chosen
-- by precedence, not by arrival: delivered (4) > failed/undelivered/bounced (3) >
-- sent: accepted or no receipt (2) > queued/pending (1). An open (human or machine) or a
-- click proves delivery; a click also proves an open (e-mail and push; SMS has no opens).
-- Incremental by partition_date, the dispatch's day: a run rebuilds the days holding dispatches
-- rebuilt since the last build, or the dispatches of events rebuilt since
-- (macros/incremental_rollups.sql).
with

{% if is_incremental() %}
rebuilt_dates as (

    {{ rebuilt_since_watermark(ref('int_dispatches')) }}
    union
    {{ units_touched_by(ref('int_dispatches'), ref('int_provider_events'), ['dispatch_id']) }}
    union
    select partition_date from {{ ref('int_dispatches') }}
    where {{ built_by_other_code() }}

),
{% endif %}

dispatches as (

    select * from {{ ref('int_dispatches') }}
    {%- if is_incremental() %}
    where partition_date in (select rebuilt_dates.partition_date from rebuilt_dates)
    {%- endif %}

),

events as (

    select * from {{ ref('int_provider_events') }}
    where is_matched_to_dispatch
    {%- if is_incremental() %}
        and dispatch_id in (select dispatches.dispatch_id from dispatches)
    {%- endif %}

),

rollup as (

    select
        dispatch_id,
        -- the earliest proof of delivery: a receipt, an open (even a machine's) or a click
        min(case when event_type in ('delivered', 'opened', 'clicked') then occurred_at end) as first_delivery_proof_at,
        -- the earliest proof of a person opening: a human open or a click
        min(
            case when (event_type = 'opened' and not is_machine_open) or event_type = 'clicked' then occurred_at end
        ) as first_person_open_at,
        min(case when event_type = 'clicked' then occurred_at end) as first_clicked_at,
        max(
            case when (event_type = 'opened' and not is_machine_open) or event_type = 'clicked' then occurred_at end
        ) as last_person_open_at,
        max(case when event_type = 'clicked' then occurred_at end) as last_clicked_at,
        count(case when event_type = 'opened' and not is_machine_open then 1 end) as opens,
        count(case when event_type = 'opened' and is_machine_open then 1 end) as machine_opens,
        count(case when event_type = 'clicked' then 1 end) as clicks,
        max(case when event_type in ('delivered', 'opened', 'clicked') then 1 else 0 end) as has_delivery_proof,
        max(case when event_type in ('failed', 'hard_bounced', 'soft_bounced') then 1 else 0 end) as has_failure,
        max(case when event_type = 'accepted' then 1 else 0 end) as has_acceptance,
        max(case when event_type = 'pending' then 1 else 0 end) as has_pending
    from events
    group by dispatch_id

),

failures as (

    -- the latest failure says why an undelivered message failed
    select
        dispatch_id,
        event_type as failure_event_type,
        error_code,
        error_category,
        bounce_type,
        row_number() over (
            partition by dispatch_id
            order by occurred_at desc, provider_event_key desc
        ) as failure_rank
    from events
    where event_type in ('failed', 'hard_bounced', 'soft_bounced')

),

statused as (

    select
        dispatches.*,
        rollup.first_delivery_proof_at,
        rollup.first_person_open_at,
        rollup.first_clicked_at,
        rollup.last_person_open_at,
        rollup.last_clicked_at,
        coalesce(rollup.opens, 0) as opens,
        coalesce(rollup.machine_opens, 0) as machine_opens,
        coalesce(rollup.clicks, 0) as clicks,
        case
            when dispatches.dispatch_status <> 'sent' then null
            when rollup.has_delivery_proof = 1 then 4
            when rollup.has_failure = 1 then 3
            when rollup.has_pending = 1 and rollup.has_acceptance = 0 then 1
            else 2
        end as final_status_rank
    from dispatches
    left join rollup
        on dispatches.dispatch_id = rollup.dispatch_id

)

select
    statused.dispatch_id,
    statused.mailing_id,
    statused.customer_id,
    statused.channel,
    statused.provider,
    statused.provider_message_id,
    statused.dispatched_at,
    statused.dispatch_status,
    statused.skip_reason,
    statused.grp,
    statused.variant,
    statused.eligibility,
    statused.contact_hash,
    statused.final_status_rank,
    case statused.final_status_rank
        when 4 then 'delivered'
        when 3 then 'failed'
        when 2 then 'sent'
        when 1 then 'queued'
    end as final_status,
    coalesce(statused.final_status_rank = 4, false) as is_delivered,
    case when statused.final_status_rank = 4 then statused.first_delivery_proof_at end as delivered_at,
    case when statused.channel <> 'sms' then statused.first_person_open_at end as first_opened_at,
    statused.first_clicked_at,
    case when statused.channel <> 'sms' then statused.last_person_open_at end as last_opened_at,
    statused.last_clicked_at,
    case when statused.channel <> 'sms' then statused.first_person_open_at is not null end as is_opened,
    statused.first_clicked_at is not null as is_clicked,
    case when statused.channel = 'sms' then null else statused.opens end as opens,
    case when statused.channel = 'sms' then null else statused.machine_opens end as machine_opens,
    statused.clicks,
    case when failures.dispatch_id is not null and statused.final_status_rank = 3 then failures.failure_event_type end
        as failure_event_type,
    case when statused.final_status_rank = 3 then failures.error_code end as error_code,
    case when statused.final_status_rank = 3 then failures.error_category end as error_category,
    case when statused.final_status_rank = 3 then failures.bounce_type end as bounce_type,
    statused.partition_date,
    {{ rollup_stamps([ref('int_dispatches'), ref('int_provider_events')]) }}
from statused
left join failures
    on
        statused.dispatch_id = failures.dispatch_id
        and failures.failure_rank = 1
{{ order_by_unit('statused.partition_date') }}
