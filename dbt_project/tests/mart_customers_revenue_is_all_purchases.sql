{{ config(meta={'dagster': {'ref': {'name': 'mart_customers'}}}) }}
-- Cross-mart identity (issue 13): mart_customers' revenue, summed over customers, equals the
-- revenue of every purchase and return of a known customer (int_purchase_attribution holds one
-- row per fct_purchases row; anonymous POS receipts belong to no customer), and so do its
-- direct, assisted and organic parts: each purchase counts once. Returns the totals that differ.
with

customers as (

    select
        sum(revenue) as revenue,
        sum(direct_revenue) as direct_revenue,
        sum(assisted_revenue) as assisted_revenue,
        sum(organic_revenue) as organic_revenue,
        sum(purchases) as purchases
    from {{ ref('mart_customers') }}

),

purchases as (

    select
        sum(revenue) as revenue,
        sum(case when attribution = 'direct' then revenue else 0 end) as direct_revenue,
        sum(case when attribution = 'assisted' then revenue else 0 end) as assisted_revenue,
        sum(case when attribution = 'organic' then revenue else 0 end) as organic_revenue,
        count(case when is_purchase then 1 end) as purchases
    from {{ ref('int_purchase_attribution') }}
    where customer_id is not null

)

select
    customers.revenue as mart_revenue,
    purchases.revenue as purchases_revenue,
    customers.purchases as mart_purchases,
    purchases.purchases
from customers
cross join purchases
where
    coalesce(customers.revenue, 0) <> coalesce(purchases.revenue, 0)
    or coalesce(customers.direct_revenue, 0) <> coalesce(purchases.direct_revenue, 0)
    or coalesce(customers.assisted_revenue, 0) <> coalesce(purchases.assisted_revenue, 0)
    or coalesce(customers.organic_revenue, 0) <> coalesce(purchases.organic_revenue, 0)
    or coalesce(customers.purchases, 0) <> coalesce(purchases.purchases, 0)
    or coalesce(customers.direct_revenue, 0) + coalesce(customers.assisted_revenue, 0)
    + coalesce(customers.organic_revenue, 0) <> coalesce(customers.revenue, 0)
