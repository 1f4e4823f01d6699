-- One row per mailing (reports.md, mart_mailing_roi): what its sent messages cost and what they
-- brought. messages, billable_units and cost sum int_message_costs (the price list's price at
-- dispatch; billable units = segments for a price per segment, else messages); cost is null
-- when no price applies to any of its messages, and unpriced_messages says how many had none.
-- direct and assisted revenue are the purchases the mailing claims (int_mailing_purchases);
-- incremental_revenue is the treatment row's of mart_group_lift (null without a control group).
-- roi = (incremental_revenue - cost) / cost.
with

mailings as (

    select * from {{ ref('int_mailings') }}

),

mailing_names as (

    select * from {{ ref('int_mailing_names') }}

),

message_costs as (

    select * from {{ ref('int_message_costs') }}

),

mailing_purchases as (

    select * from {{ ref('int_mailing_purchases') }}
    where attribution is not null

),

treatment_lift as (

    select * from {{ ref('mart_group_lift') }}
    where grp = 'treatment'

),

costs as (

    select
        mailing_id,
        count(*) as messages,
        sum(billable_units) as billable_units,
        sum(cost) as total_cost,
        count(case when cost is null then 1 end) as unpriced_messages
    from message_costs
    group by mailing_id

),

claims as (

    select
        mailing_id,
        count(case when attribution = 'direct' then 1 end) as direct_purchases,
        sum(case when attribution = 'direct' then revenue else 0 end) as direct_revenue,
        sum(case when attribution = 'assisted' then revenue else 0 end) as assisted_revenue
    from mailing_purchases
    group by mailing_id

),

combined as (

    select
        mailings.mailing_id,
        mailings.campaign_id,
        mailings.channel,
        mailing_names.mailing_name,
        mailing_names.campaign_name,
        coalesce(costs.messages, 0) as messages,
        coalesce(costs.billable_units, 0) as billable_units,
        costs.total_cost,
        coalesce(costs.unpriced_messages, 0) as unpriced_messages,
        coalesce(claims.direct_purchases, 0) as direct_purchases,
        coalesce(claims.direct_revenue, 0) as direct_revenue,
        coalesce(claims.assisted_revenue, 0) as assisted_revenue,
        treatment_lift.incremental_revenue
    from mailings
    {{ left_join_on('mailings', ['mailing_names', 'costs', 'claims', 'treatment_lift'], ['mailing_id']) }}

)

select
    {{ cast_columns([
        'mailing_id', 'mailing_name', 'campaign_id', 'campaign_name', 'channel'
    ], dbt.type_string()) }},
    {{ cast_columns(['messages', 'billable_units'], dbt.type_bigint()) }},
    cast(total_cost as decimal(38, 6)) as cost, -- noqa: RF04
    cast(direct_purchases as {{ dbt.type_bigint() }}) as direct_purchases,
    cast(direct_revenue as decimal(38, 2)) as direct_revenue,
    cast(assisted_revenue as decimal(38, 2)) as assisted_revenue,
    incremental_revenue,
    {{ safe_divide('(incremental_revenue - total_cost)', 'total_cost') }} as roi,
    {{ safe_divide('total_cost', 'direct_purchases') }} as cost_per_direct_purchase,
    cast(unpriced_messages as {{ dbt.type_bigint() }}) as unpriced_messages
from combined
