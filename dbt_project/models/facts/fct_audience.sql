-- One row per mailing and customer of a mailing's target audience; an audience re-export
-- replaces the earlier row of the same mailing and customer (the latest loaded wins).
-- Audience rows carry no date of their own, so the unit a run replaces is the whole audience
-- of a mailing: those with newly loaded rows, and, for a windowed run, those of mailings sent
-- in the window (macros/incremental.sql).
-- depends_on: {{ ref('stg_marketing__mailings') }} (lookback_days: the longest attribution window)
{{ config(unique_key='mailing_id', partition_by='mailing_id') }}

with

audience as (

    select * from {{ ref('stg_marketing__audience') }}

),

{% if is_incremental() %}
mailings as (

    select * from {{ ref('stg_marketing__mailings') }}

),

touched_mailings as (

    select mailing_id from audience
    where _ingested_at > {{ fact_watermark() }}
    union
    select mailing_id from mailings
    where {{ in_run_window(date_of('sent_at')) }}

),
{% endif %}

ranked as (

    select
        *,
        row_number() over (
            partition by mailing_id, customer_id
            order by {{ load_order('desc') }}
        ) as snapshot_rank
    from audience
    {% if is_incremental() -%}
    where mailing_id in (select touched_mailings.mailing_id from touched_mailings)
    {%- endif %}

)

select
    mailing_id,
    customer_id,
    grp,
    variant,
    eligibility,
    address_hash,
    email_domain,
    {{ source_loaded_through([ref('stg_marketing__audience')]) }} as _source_loaded_through
from ranked
where snapshot_rank = 1
