-- One row per mailing, group and ranking (reports.md, mart_category_top25): the 25 categories
-- with the most units, revenue or receipts among the group's purchases inside the mailing's
-- window, ties broken by category_name; rank 1..n without gaps. Groups as in mart_group_lift
-- (good audience members: treatment, control, each variant) plus `all` = every good member.
-- Measures are signed (returns inside the window reduce units and revenue); receipts counts the
-- distinct purchases (not returns) with a line in the category. Lines of an unknown product
-- fall in category '(unknown)'.
with

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

mailing_purchases as (

    select * from {{ ref('int_mailing_purchases') }}

),

purchase_lines as (

    select * from {{ ref('int_purchase_lines') }}

),

good_members as (

    select
        mailing_id,
        customer_id,
        grp,
        variant
    from recipients
    where is_audience_member and eligibility = 'good'

),

group_members as (

    select
        mailing_id,
        customer_id,
        'all' as grp
    from good_members
    union all
    select
        mailing_id,
        customer_id,
        grp
    from good_members
    where grp in ('treatment', 'control')
    union all
    select
        mailing_id,
        customer_id,
        variant as grp
    from good_members
    where variant is not null

),

group_lines as (

    select
        group_members.mailing_id,
        group_members.grp,
        coalesce(purchase_lines.category_name, '(unknown)') as category_name,
        purchase_lines.purchase_key,
        purchase_lines.is_purchase,
        purchase_lines.units,
        purchase_lines.revenue
    from group_members
    inner join mailing_purchases
        on
            group_members.mailing_id = mailing_purchases.mailing_id
            and group_members.customer_id = mailing_purchases.customer_id
    inner join purchase_lines
        on mailing_purchases.purchase_key = purchase_lines.purchase_key

),

category_measures as (

    select
        mailing_id,
        grp,
        category_name,
        sum(units) as units,
        sum(revenue) as revenue,
        count(distinct case when is_purchase then purchase_key end) as receipts
    from group_lines
    group by mailing_id, grp, category_name

),

rankings as (

    select 'units' as ranked_by
    union all
    select 'revenue' as ranked_by
    union all
    select 'receipts' as ranked_by

),

ranked as (

    select
        category_measures.mailing_id,
        category_measures.grp,
        rankings.ranked_by,
        category_measures.category_name,
        category_measures.units,
        category_measures.revenue,
        category_measures.receipts,
        row_number() over (
            partition by category_measures.mailing_id, category_measures.grp, rankings.ranked_by
            order by
                case rankings.ranked_by
                    when 'units' then cast(category_measures.units as {{ type_double() }})
                    when 'revenue' then cast(category_measures.revenue as {{ type_double() }})
                    else cast(category_measures.receipts as {{ type_double() }})
                end desc,
                category_measures.category_name asc
        ) as category_rank
    from category_measures
    cross join rankings

),

named as (

    {{ with_mailing_name('ranked') }}

)

select
    {{ cast_columns(['mailing_id', 'mailing_name', 'grp', 'ranked_by'], dbt.type_string()) }},
    cast(category_rank as {{ dbt.type_int() }}) as rank,
    cast(category_name as {{ dbt.type_string() }}) as category_name,
    cast(units as decimal(38, 3)) as units,
    cast(revenue as decimal(38, 2)) as revenue,
    cast(receipts as {{ dbt.type_bigint() }}) as receipts
from named
where category_rank <= 25
