-- One row per mailing and group (reports.md, "Groups"): `treatment` (all variants together),
-- `control` and each A/B variant, with what the group's members did inside the mailing's window.
-- Intent to treat: members are the group's `good` audience members whether or not the message
-- reached them; buyers, purchases and revenue (sales - returns) are theirs inside the window.
-- Every group the audience defines has a row, even one whose members are all ineligible
-- (members = 0). mart_group_lift compares each group with `control`, mart_variant_tests the
-- variants with one another.
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

)

select
    mailing_groups.mailing_id,
    mailing_groups.grp,
    cast(coalesce(member_counts.members, 0) as {{ dbt.type_bigint() }}) as members,
    cast(coalesce(purchase_counts.buyers, 0) as {{ dbt.type_bigint() }}) as buyers,
    cast(coalesce(purchase_counts.purchases, 0) as {{ dbt.type_bigint() }}) as purchases,
    cast(coalesce(purchase_counts.revenue, 0) as decimal(38, 2)) as revenue
from mailing_groups
{{ left_join_on('mailing_groups', ['member_counts', 'purchase_counts'], ['mailing_id', 'grp']) }}
