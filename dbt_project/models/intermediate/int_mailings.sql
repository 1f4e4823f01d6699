-- One row per mailing (latest snapshot) with its attribution window resolved:
-- [window_start_at, window_end_at) = [sent_at, sent_at + attribution_window_days).
with

mailings as (

    select * from {{ ref('stg_marketing__mailings') }}

),

dispatches as (

    select * from {{ ref('fct_dispatches') }}

),

sent_dispatches as (

    select
        mailing_id,
        min(dispatched_at) as first_dispatched_at,
        max(dispatched_at) as last_dispatched_at,
        count(*) as sent_dispatches
    from dispatches
    where dispatch_status = 'sent'
    group by mailing_id

),

resolved as (

    select
        mailings.mailing_id,
        mailings.campaign_id,
        mailings.mailing_name,
        mailings.channel,
        mailings.category,
        mailings.mailing_status,
        mailings.sent_at,
        mailings.body,
        sent_dispatches.first_dispatched_at,
        sent_dispatches.last_dispatched_at,
        coalesce(sent_dispatches.sent_dispatches, 0) as sent_dispatches,
        coalesce(
            mailings.attribution_window_days, {{ var('default_attribution_days') }}
        ) as attribution_window_days,
        -- a mailing whose export still lacks sent_at opens its window at its first send
        coalesce(mailings.sent_at, sent_dispatches.first_dispatched_at) as window_start_at
    from mailings
    left join sent_dispatches
        on mailings.mailing_id = sent_dispatches.mailing_id

)

select
    mailing_id,
    campaign_id,
    mailing_name,
    channel,
    category,
    mailing_status,
    sent_at,
    body,
    first_dispatched_at,
    last_dispatched_at,
    sent_dispatches,
    attribution_window_days,
    window_start_at,
    {{ add_days('window_start_at', 'attribution_window_days') }} as window_end_at
from resolved
