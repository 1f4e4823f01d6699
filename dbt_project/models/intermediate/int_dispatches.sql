-- One row per dispatch, with the audience row it was made for (group, variant,
-- eligibility) and the contact it went to (the audience address hash). Incremental by
-- partition_date, the dispatch's day: a run rebuilds the days holding dispatches rebuilt since
-- the last build, or whose audience row was (macros/incremental_rollups.sql).
with

dispatches as (

    select * from {{ ref('fct_dispatches') }}

),

audience as (

    select * from {{ ref('fct_audience') }}

){% if is_incremental() %},

rebuilt_dates as (

    {{ rebuilt_since_watermark('dispatches') }}
    union
    {{ units_touched_by('dispatches', 'audience', ['mailing_id', 'customer_id']) }}
    union
    select partition_date from dispatches
    where {{ built_by_other_code() }}

)
{%- endif %}

select
    dispatches.dispatch_id,
    dispatches.mailing_id,
    dispatches.customer_id,
    dispatches.channel,
    dispatches.provider,
    dispatches.provider_message_id,
    dispatches.dispatched_at,
    dispatches.dispatch_status,
    dispatches.skip_reason,
    dispatches.segments,
    audience.grp,
    case when audience.grp = 'treatment' then audience.variant end as variant,
    audience.eligibility,
    audience.address_hash as contact_hash,
    dispatches.partition_date,
    {{ rollup_stamps([ref('fct_dispatches'), ref('fct_audience')]) }}
from dispatches
left join audience
    on
        dispatches.mailing_id = audience.mailing_id
        and dispatches.customer_id = audience.customer_id
{%- if is_incremental() %}
where dispatches.partition_date in (select rebuilt_dates.partition_date from rebuilt_dates)
{%- endif %}
{{ order_by_unit('dispatches.partition_date') }}
