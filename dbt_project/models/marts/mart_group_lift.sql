-- One row per mailing and group (reports.md, mart_group_lift): `treatment` (all variants
-- together), `control` and each A/B variant. Intent to treat: members are the group's `good`
-- audience members whether or not the message reached them; buyers, purchases and revenue are
-- theirs inside the mailing's window (revenue = sales - returns). Lift columns compare the row's
-- group with `control`: null on the control row, when the mailing has no control group and when
-- either side has no members. `conversion` is a name reports.md fixes (noqa RF04 below).
with

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

mailing_purchases as (

    select * from {{ ref('int_mailing_purchases') }}

),

audience as (

    select
        mailing_id,
        customer_id,
        grp,
        variant,
        eligibility
    from recipients
    where is_audience_member

),

-- Every group the audience defines, even one whose members are all ineligible (members = 0).
mailing_groups as (

    select
        mailing_id,
        grp
    from audience
    where grp in ('treatment', 'control')
    union
    select
        mailing_id,
        variant as grp
    from audience
    where variant is not null

),

group_members as (

    select
        mailing_id,
        customer_id,
        grp
    from audience
    where eligibility = 'good' and grp in ('treatment', 'control')
    union all
    select
        mailing_id,
        customer_id,
        variant as grp
    from audience
    where eligibility = 'good' and variant is not null

),

member_counts as (

    select
        mailing_id,
        grp,
        count(distinct customer_id) as members
    from group_members
    group by mailing_id, grp

),

purchase_counts as (

    select
        group_members.mailing_id,
        group_members.grp,
        count(distinct case when mailing_purchases.is_purchase then mailing_purchases.customer_id end)
            as buyers,
        count(distinct case when mailing_purchases.is_purchase then mailing_purchases.purchase_key end)
            as purchases,
        sum(mailing_purchases.revenue) as revenue
    from group_members
    inner join mailing_purchases
        on
            group_members.mailing_id = mailing_purchases.mailing_id
            and group_members.customer_id = mailing_purchases.customer_id
    group by group_members.mailing_id, group_members.grp

),

counted as (

    select
        mailing_groups.mailing_id,
        mailing_groups.grp,
        coalesce(member_counts.members, 0) as members,
        coalesce(purchase_counts.buyers, 0) as buyers,
        coalesce(purchase_counts.purchases, 0) as purchases,
        cast(coalesce(purchase_counts.revenue, 0) as decimal(38, 2)) as revenue
    from mailing_groups
    left join member_counts
        on
            mailing_groups.mailing_id = member_counts.mailing_id
            and mailing_groups.grp = member_counts.grp
    left join purchase_counts
        on
            mailing_groups.mailing_id = purchase_counts.mailing_id
            and mailing_groups.grp = purchase_counts.grp

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
    from counted

),

compared as (

    select
        rated.*,
        control_group.members as control_members,
        control_group.buyers as control_buyers,
        control_group.conversion as control_conversion,
        control_group.revenue_per_member as control_revenue_per_member,
        rated.conversion - control_group.conversion as lift_abs,
        -- Unpooled (Wald) standard error of the difference of the two proportions.
        sqrt(
            rated.conversion * (1 - rated.conversion) / rated.members
            + control_group.conversion * (1 - control_group.conversion) / control_group.members
        ) as se_unpooled,
        -- Pooled standard error of the two-proportion z-test.
        {{ safe_divide(
            '(rated.buyers + control_group.buyers)',
            '(rated.members + control_group.members)'
        ) }} as pooled_rate
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
        sqrt(
            pooled_rate * (1 - pooled_rate)
            * (
                cast(1 as {{ type_double() }}) / members
                + cast(1 as {{ type_double() }}) / control_members
            )
        ) as se_pooled
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
    lift_abs - 1.959963984540054e0 * se_unpooled as lift_ci_low,
    lift_abs + 1.959963984540054e0 * se_unpooled as lift_ci_high,
    {{ normal_two_sided_p('z_score') }} as p_value,
    lift_abs * members as incremental_buyers,
    (revenue_per_member - control_revenue_per_member) * members as incremental_revenue,
    cast(control_members as {{ dbt.type_bigint() }}) as control_members,
    cast(control_buyers as {{ dbt.type_bigint() }}) as control_buyers
from named
