-- One row per mailing and group (reports.md, mart_group_lift): `treatment` (all variants
-- together), `control` and each A/B variant, with the members, buyers, purchases and revenue of
-- int_group_outcomes (intent to treat). Lift columns compare the row's group with `control`
-- (the two-proportion statistics of macros/statistics.sql): null on the control row, when the
-- mailing has no control group and when either side has no members. `conversion` is a name
-- reports.md fixes (noqa RF04 below).
with

group_outcomes as (

    select * from {{ ref('int_group_outcomes') }}

),

rated as (

    select
        mailing_id,
        grp,
        members,
        buyers,
        purchases,
        revenue,
        {{ safe_divide('buyers', 'members') }} as conversion,  -- noqa: RF04
        {{ safe_divide('revenue', 'members') }} as revenue_per_member,
        {{ safe_divide('revenue', 'purchases') }} as avg_purchase_value
    from group_outcomes

),

compared as (

    {{ compared_with_group('rated', 'mailing_id', 'control') }}

),

named as (

    {{ with_mailing_name('compared') }}

)

select
    {{ cast_columns(['mailing_id', 'mailing_name', 'grp'], dbt.type_string()) }},
    {{ cast_columns(['members', 'buyers', 'purchases'], dbt.type_bigint()) }},
    revenue,
    conversion,
    revenue_per_member,
    avg_purchase_value,
    lift_abs,
    {{ safe_divide('lift_abs', 'baseline_conversion') }} as lift_rel,
    lift_abs - {{ z_95() }} * se_unpooled as lift_ci_low,
    lift_abs + {{ z_95() }} * se_unpooled as lift_ci_high,
    {{ normal_two_sided_p('z_score') }} as p_value,
    lift_abs * members as incremental_buyers,
    (revenue_per_member - baseline_revenue_per_member) * members as incremental_revenue,
    cast(baseline_members as {{ dbt.type_bigint() }}) as control_members,
    cast(baseline_buyers as {{ dbt.type_bigint() }}) as control_buyers
from named
