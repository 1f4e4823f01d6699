-- One row per message handed to a provider (sent) or skipped. A message the provider knows is
-- one dispatch, whatever the platform re-exported: the latest loaded record wins. Incremental by
-- partition_date, the UTC date of dispatched_at (macros/incremental.sql).
-- depends_on: {{ ref('stg_marketing__mailings') }} (lookback_days: the longest attribution window)

with

dispatches as (

    {{ with_partition_date(ref('stg_marketing__dispatches'), 'dispatched_at') }}

),

{% if is_incremental() %}
touched_dates as (

    select partition_date from dispatches
    where _ingested_at > {{ fact_watermark() }}

),
{% endif %}

ranked as (

    select
        *,
        row_number() over (
            partition by
                case
                    when provider_message_id is null then dispatch_id
                    else {{ dbt.concat(['provider', "':'", 'provider_message_id']) }}
                end
            order by {{ load_order('desc') }}
        ) as snapshot_rank
    from dispatches
    where {{ in_fact_batch('partition_date') }}

)

select
    dispatch_id,
    mailing_id,
    customer_id,
    channel,
    provider,
    provider_message_id,
    dispatched_at,
    dispatch_status,
    skip_reason,
    segments,
    partition_date,
    {{ source_loaded_through([ref('stg_marketing__dispatches')]) }} as _source_loaded_through
from ranked
where snapshot_rank = 1
