-- One row per calendar month (reporting time zone) and group (reports.md, mart_global_holdout),
-- for every month in which a mailing was sent (its window opened: int_mailings.window_start_at).
-- `holdout` = customers held out (int_global_holdout_periods, [valid_from, valid_to)) at the
-- first instant of the month; `messaged` = the other customers with a `good` audience row of a
-- mailing sent that month. Buyers, purchases and revenue (sales - returns) are their purchases
-- made that month. The lift columns compare `messaged` with `holdout` with the two-proportion
-- statistics of mart_group_lift (macros/statistics.sql); null on the holdout row and when either
-- group has no members.
with

mailings as (

    select * from {{ ref('int_mailings') }}
    where window_start_at is not null

),

audience as (

    select * from {{ ref('fct_audience') }}
    where eligibility = 'good'

),

holdout_periods as (

    select * from {{ ref('int_global_holdout_periods') }}

),

purchases as (

    select * from {{ ref('fct_purchases') }}
    where customer_id is not null

),

mailing_months as (

    select
        mailing_id,
        cast({{ dbt.date_trunc('month', to_reporting_tz('window_start_at')) }} as date) as report_month
    from mailings

),

months as (

    select distinct report_month
    from mailing_months

),

held_out as (

    select distinct
        months.report_month,
        holdout_periods.customer_id
    from months
    inner join holdout_periods
        on
            {{ to_reporting_tz('holdout_periods.valid_from') }}
            <= cast(months.report_month as {{ dbt.type_timestamp() }})
            and (
                holdout_periods.valid_to is null
                or {{ to_reporting_tz('holdout_periods.valid_to') }}
                > cast(months.report_month as {{ dbt.type_timestamp() }})
            )

),

messaged as (

    select distinct
        mailing_months.report_month,
        audience.customer_id
    from mailing_months
    inner join audience
        on mailing_months.mailing_id = audience.mailing_id

),

group_members as (

    select
        report_month,
        'holdout' as grp,
        customer_id
    from held_out
    union all
    select
        messaged.report_month,
        'messaged' as grp,
        messaged.customer_id
    from messaged
    left join held_out
        on
            messaged.report_month = held_out.report_month
            and messaged.customer_id = held_out.customer_id
    where held_out.customer_id is null

),

month_purchases as (

    select
        cast({{ dbt.date_trunc('month', to_reporting_tz('purchased_at')) }} as date) as report_month,
        customer_id,
        purchase_key,
        is_purchase,
        revenue
    from purchases

),

member_counts as (

    select
        report_month,
        grp,
        count(distinct customer_id) as members
    from group_members
    group by report_month, grp

),

purchase_counts as (

    select
        group_members.report_month,
        group_members.grp,
        count(distinct case when month_purchases.is_purchase then month_purchases.customer_id end) as buyers,
        count(distinct case when month_purchases.is_purchase then month_purchases.purchase_key end)
            as purchases,
        sum(month_purchases.revenue) as revenue
    from group_members
    inner join month_purchases
        on
            group_members.report_month = month_purchases.report_month
            and group_members.customer_id = month_purchases.customer_id
    group by group_members.report_month, group_members.grp

),

month_groups as (

    select
        report_month,
        'holdout' as grp
    from months
    union all
    select
        report_month,
        'messaged' as grp
    from months

),

rated as (

    select
        month_groups.report_month,
        month_groups.grp,
        coalesce(member_counts.members, 0) as members,
        coalesce(purchase_counts.buyers, 0) as buyers,
        coalesce(purchase_counts.purchases, 0) as purchases,
        cast(coalesce(purchase_counts.revenue, 0) as decimal(38, 2)) as revenue,
        {{ safe_divide('coalesce(purchase_counts.buyers, 0)', 'member_counts.members') }} as conversion,  -- noqa: RF04
        {{ safe_divide('coalesce(purchase_counts.revenue, 0)', 'member_counts.members') }} as revenue_per_member
    from month_groups
    {{ left_join_on('month_groups', ['member_counts', 'purchase_counts'], ['report_month', 'grp']) }}

),

compared as (

    {{ compared_with_group('rated', 'report_month', 'holdout') }}

)

select
    report_month as month, -- noqa: RF04
    cast(grp as {{ dbt.type_string() }}) as grp,
    {{ cast_columns(['members', 'buyers', 'purchases'], dbt.type_bigint()) }},
    revenue,
    conversion,
    revenue_per_member,
    lift_abs,
    lift_abs - {{ z_95() }} * se_unpooled as lift_ci_low,
    lift_abs + {{ z_95() }} * se_unpooled as lift_ci_high,
    {{ normal_two_sided_p('z_score') }} as p_value,
    (revenue_per_member - baseline_revenue_per_member) * members as incremental_revenue
from compared
