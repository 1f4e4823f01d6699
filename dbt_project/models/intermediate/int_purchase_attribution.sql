-- One row per purchase or return (fct_purchases) with its attribution across all mailings
-- (reports.md, mart_customers): `direct` if any mailing claims it as direct, else `assisted` if
-- any claims it (int_mailing_purchases holds the per-mailing rule), else `organic`. A return is
-- claimed by no mailing (attribution is on purchases only), so it is organic: revenue = direct +
-- assisted + organic revenue holds. A direct purchase is also credited to one message, so that
-- a per-message report counts it once: of the mailings that claim it as direct and were sent to
-- the buyer, the one whose first message to the buyer went out last (ties: the greater
-- mailing_id). A direct purchase whose claiming mailings were none sent to the buyer (a utm
-- order of someone else) is credited to no message.
with

purchases as (

    select * from {{ ref('fct_purchases') }}

),

claims as (

    select * from {{ ref('int_mailing_purchases') }}
    where attribution is not null

),

mailings as (

    select * from {{ ref('int_mailings') }}

),

claim_summary as (

    select
        purchase_key,
        max(case when attribution = 'direct' then 1 else 0 end) as is_direct
    from claims
    group by purchase_key

),

direct_credits as (

    select
        claims.purchase_key,
        claims.mailing_id,
        mailings.channel,
        claims.first_dispatched_at,
        row_number() over (
            partition by claims.purchase_key
            order by claims.first_dispatched_at desc, claims.mailing_id desc
        ) as credit_rank
    from claims
    inner join mailings
        on claims.mailing_id = mailings.mailing_id
    where claims.attribution = 'direct' and claims.is_recipient

)

select
    purchases.purchase_key,
    purchases.customer_id,
    purchases.purchased_at,
    purchases.is_purchase,
    purchases.revenue,
    case
        when claim_summary.is_direct = 1 then 'direct'
        when claim_summary.is_direct = 0 then 'assisted'
        else 'organic'
    end as attribution,
    direct_credits.mailing_id as credited_mailing_id,
    direct_credits.channel as credited_channel,
    direct_credits.first_dispatched_at as credited_dispatched_at
from purchases
left join claim_summary
    on purchases.purchase_key = claim_summary.purchase_key
left join direct_credits
    on
        purchases.purchase_key = direct_credits.purchase_key
        and direct_credits.credit_rank = 1
