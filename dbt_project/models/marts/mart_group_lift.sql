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

    select
        rated.*,
        control_group.members as control_members,
        control_group.buyers as control_buyers,
        control_group.conversion as control_conversion,
        control_group.revenue_per_member as control_revenue_per_member,
        rated.conversion - control_group.conversion as lift_abs,
        {{ wald_diff_se('rated.conversion', 'rated.members', 'control_group.conversion', 'control_group.members') }}
            as se_unpooled,
        {{ pooled_rate('rated.buyers', 'rated.members', 'control_group.buyers', 'control_group.members') }}
            as pooled_rate
    from rated
    left join rated as control_group
        on
            rated.mailing_id = control_group.mailing_id
            and control_group.grp = 'control'
            and rated.grp <> 'control'
            and rated.members > 0
            and control_group.members > 0

),

tested as (

    select
        *,
        {{ pooled_diff_se('pooled_rate', 'members', 'control_members') }} as se_pooled
    from compared

),

z_scored as (

    select
        *,
        {{ safe_divide('lift_abs', 'se_pooled') }} as z_score
    from tested

),

named as (

    {{ with_mailing_name('z_scored') }}

)

select
    cast(mailing_id as {{ dbt.type_string() }}) as mailing_id,
    cast(mailing_name as {{ dbt.type_string() }}) as mailing_name,
    cast(grp as {{ dbt.type_string() }}) as grp,
    cast(members as {{ dbt.type_bigint() }}) as members,
    cast(buyers as {{ dbt.type_bigint() }}) as buyers,
    cast(purchases as {{ dbt.type_bigint() }}) as purchases,
    revenue,
    conversion,
    revenue_per_member,
    avg_purchase_value,
    lift_abs,
    {{ safe_divide('lift_abs', 'control_conversion') }} as lift_rel,
    lift_abs - {{ z_95() }} * se_unpooled as lift_ci_low,
    lift_abs + {{ z_95() }} * se_unpooled as lift_ci_high,
    {{ normal_two_sided_p('z_score') }} as p_value,
    lift_abs * members as incremental_buyers,
    (revenue_per_member - control_revenue_per_member) * members as incremental_revenue,
    cast(control_members as {{ dbt.type_bigint() }}) as control_members,
    cast(control_buyers as {{ dbt.type_bigint() }}) as control_buyers
from named
