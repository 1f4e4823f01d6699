-- One row per e-mail mailing and hour of the day 0-23 in the reporting time zone (all 24 rows,
-- zeros filled): human opens (machine opens never count) of the mailing's messages made in that
-- hour on any day, the distinct customers who made them, and the hour's share of the mailing's
-- opens (null when the mailing has none).
with

mailings as (

    select * from {{ ref('int_mailings') }}
    where channel = 'email'

),

opens as (

    select * from {{ ref('int_provider_events') }}
    where is_matched_to_dispatch and event_type = 'opened' and not is_machine_open

),

hours as (

    select cast(generated_number - 1 as {{ dbt.type_int() }}) as hour_of_day
    from ({{ dbt.generate_series(24) }}) as series

),

open_hours as (

    select
        mailing_id,
        customer_id,
        {{ hour_of(to_reporting_tz('occurred_at')) }} as hour_of_day
    from opens

),

hour_counts as (

    select
        mailing_id,
        hour_of_day,
        count(*) as opens,
        count(distinct customer_id) as unique_openers
    from open_hours
    group by mailing_id, hour_of_day

),

mailing_totals as (

    select
        mailing_id,
        count(*) as total_opens
    from open_hours
    group by mailing_id

),

filled as (

    select
        mailings.mailing_id,
        hours.hour_of_day,
        coalesce(hour_counts.opens, 0) as opens,
        coalesce(hour_counts.unique_openers, 0) as unique_openers,
        coalesce(mailing_totals.total_opens, 0) as total_opens
    from mailings
    cross join hours
    left join hour_counts
        on
            mailings.mailing_id = hour_counts.mailing_id
            and hours.hour_of_day = hour_counts.hour_of_day
    left join mailing_totals
        on mailings.mailing_id = mailing_totals.mailing_id

),

named as (

    {{ with_mailing_name('filled') }}

)

select
    {{ cast_columns(['mailing_id', 'mailing_name'], dbt.type_string()) }},
    cast(hour_of_day as {{ dbt.type_int() }}) as hour, -- noqa: RF04
    {{ cast_columns(['opens', 'unique_openers'], dbt.type_bigint()) }},
    {{ safe_divide('opens', 'total_opens') }} as share_of_opens
from named
