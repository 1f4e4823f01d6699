-- One row per mailing and purchase (or return) inside the mailing's window
-- [window_start_at, window_end_at), for every audience member and recipient of the mailing,
-- plus online orders whose utm_campaign is the mailing. Holds the definitions of
-- reports.md that involve purchases:
--   is_conversion: a purchase by a clicker after their first click (funnel `converted`);
--   attribution:   direct = by a recipient who clicked before it, or an order whose
--                  utm_campaign is the mailing; assisted = not direct, after the message was
--                  dispatched to that recipient, by a recipient it was delivered to.
-- Returns carry no attribution; they count in a member's revenue (sales - returns).
with

mailings as (

    select * from {{ ref('int_mailings') }}

),

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

purchases as (

    select * from {{ ref('fct_purchases') }}

),

member_purchases as (

    select
        recipients.mailing_id,
        purchases.purchase_key
    from recipients
    inner join mailings
        on recipients.mailing_id = mailings.mailing_id
    inner join purchases
        on
            recipients.customer_id = purchases.customer_id
            and mailings.window_start_at <= purchases.purchased_at
            and mailings.window_end_at > purchases.purchased_at

),

utm_purchases as (

    select
        mailings.mailing_id,
        purchases.purchase_key
    from purchases
    inner join mailings
        on
            purchases.utm_campaign = mailings.mailing_id
            and purchases.purchased_at >= mailings.window_start_at
            and purchases.purchased_at < mailings.window_end_at

),

pairs as (

    select
        mailing_id,
        purchase_key
    from member_purchases
    union
    select
        mailing_id,
        purchase_key
    from utm_purchases

),

enriched as (

    select
        pairs.mailing_id,
        pairs.purchase_key,
        purchases.purchase_source,
        purchases.purchase_kind,
        purchases.customer_id,
        purchases.purchased_at,
        purchases.is_purchase,
        purchases.revenue,
        purchases.units,
        purchases.utm_campaign,
        recipients.grp,
        recipients.variant,
        recipients.eligibility,
        coalesce(recipients.is_audience_member, false) as is_audience_member,
        coalesce(recipients.is_recipient, false) as is_recipient,
        coalesce(recipients.is_delivered, false) as is_delivered,
        recipients.first_dispatched_at,
        recipients.first_clicked_at,
        coalesce(purchases.utm_campaign = pairs.mailing_id, false) as is_utm_match,
        coalesce(
            recipients.is_recipient and purchases.purchased_at > recipients.first_clicked_at, false
        ) as is_after_first_click,
        coalesce(
            recipients.is_recipient and purchases.purchased_at > recipients.first_dispatched_at, false
        ) as is_after_dispatch
    from pairs
    inner join purchases
        on pairs.purchase_key = purchases.purchase_key
    left join recipients
        on
            pairs.mailing_id = recipients.mailing_id
            and purchases.customer_id = recipients.customer_id

)

select
    {{ surrogate_key(['mailing_id', 'purchase_key']) }} as mailing_purchase_key,
    mailing_id,
    purchase_key,
    purchase_source,
    purchase_kind,
    customer_id,
    purchased_at,
    is_purchase,
    revenue,
    units,
    utm_campaign,
    grp,
    variant,
    eligibility,
    is_audience_member,
    is_recipient,
    is_delivered,
    first_dispatched_at,
    first_clicked_at,
    is_utm_match,
    is_after_first_click,
    is_after_dispatch,
    is_purchase and is_after_first_click as is_conversion,
    case
        when not is_purchase then null
        when is_after_first_click or is_utm_match then 'direct'
        when is_after_dispatch and is_delivered then 'assisted'
    end as attribution
from enriched
