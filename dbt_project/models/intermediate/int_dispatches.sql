-- One row per dispatch, with the audience row it was made for (group, variant,
-- eligibility) and the contact it went to (the audience address hash).
with

dispatches as (

    select * from {{ ref('fct_dispatches') }}

),

audience as (

    select * from {{ ref('fct_audience') }}

)

select
    dispatches.dispatch_id,
    dispatches.mailing_id,
    dispatches.customer_id,
    dispatches.channel,
    dispatches.provider,
    dispatches.provider_message_id,
    dispatches.dispatched_at,
    dispatches.dispatch_status,
    dispatches.skip_reason,
    dispatches.segments,
    audience.grp,
    case when audience.grp = 'treatment' then audience.variant end as variant,
    audience.eligibility,
    audience.address_hash as contact_hash
from dispatches
left join audience
    on
        dispatches.mailing_id = audience.mailing_id
        and dispatches.customer_id = audience.customer_id
