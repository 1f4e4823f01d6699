-- One row per mailing and variant, plus variant = 'all' for the whole mailing: the nested
-- funnel sent >= delivered >= opened >= clicked >= converted in distinct customers (SMS: opened
-- and machine_opens null, clicked follows delivered), with rates null when the denominator is 0.
with

mailings as (

    select * from {{ ref('int_mailings') }}

),

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

mailing_purchases as (

    select * from {{ ref('int_mailing_purchases') }}

),

opt_outs as (

    select * from {{ ref('int_opt_outs') }}

),

variants as (

    select
        mailing_id,
        'all' as variant
    from mailings
    union
    select
        mailing_id,
        variant
    from recipients
    where variant is not null

),

converters as (

    select distinct
        mailing_id,
        customer_id
    from mailing_purchases
    where is_conversion

),

recipient_stages as (

    select
        recipients.mailing_id,
        recipients.customer_id,
        recipients.variant,
        recipients.is_recipient,
        recipients.is_delivered,
        recipients.is_opened,
        recipients.is_clicked,
        converters.customer_id is not null as is_converted,
        coalesce(recipients.machine_opens, 0) as machine_opens
    from recipients
    left join converters
        on
            recipients.mailing_id = converters.mailing_id
            and recipients.customer_id = converters.customer_id
    where recipients.is_recipient

),

recipient_stages_by_variant as (

    select
        mailing_id,
        'all' as variant,
        customer_id,
        is_delivered,
        is_opened,
        is_clicked,
        is_converted,
        machine_opens
    from recipient_stages
    union all
    select
        mailing_id,
        variant,
        customer_id,
        is_delivered,
        is_opened,
        is_clicked,
        is_converted,
        machine_opens
    from recipient_stages
    where variant is not null

),

stage_counts as (

    select
        mailing_id,
        variant,
        count(distinct customer_id) as sent,
        count(distinct case when is_delivered then customer_id end) as delivered,
        count(distinct case when is_opened then customer_id end) as opened,
        count(distinct case when is_clicked then customer_id end) as clicked,
        count(distinct case when is_converted then customer_id end) as converted,
        sum(machine_opens) as machine_opens
    from recipient_stages_by_variant
    group by mailing_id, variant

),

opt_outs_by_variant as (

    select
        mailing_id,
        'all' as variant,
        customer_id,
        event_type
    from opt_outs
    where mailing_id is not null
    union all
    select
        mailing_id,
        variant,
        customer_id,
        event_type
    from opt_outs
    where mailing_id is not null and variant is not null

),

opt_out_counts as (

    select
        mailing_id,
        variant,
        count(distinct case when event_type = 'unsubscribed' then customer_id end) as unsubscribed,
        count(distinct case when event_type = 'spam_complaint' then customer_id end) as spam_complaints
    from opt_outs_by_variant
    group by mailing_id, variant

),

counted as (

    select
        variants.mailing_id,
        variants.variant,
        mailings.channel,
        coalesce(stage_counts.sent, 0) as sent,
        coalesce(stage_counts.delivered, 0) as delivered,
        case when mailings.channel = 'sms' then null else coalesce(stage_counts.opened, 0) end as opened,
        coalesce(stage_counts.clicked, 0) as clicked,
        coalesce(stage_counts.converted, 0) as converted,
        case when mailings.channel = 'sms' then null else coalesce(stage_counts.machine_opens, 0) end
            as machine_opens,
        coalesce(opt_out_counts.unsubscribed, 0) as unsubscribed,
        coalesce(opt_out_counts.spam_complaints, 0) as spam_complaints
    from variants
    inner join mailings
        on variants.mailing_id = mailings.mailing_id
    {{ left_join_on('variants', ['stage_counts', 'opt_out_counts'], ['mailing_id', 'variant']) }}

),

named as (

    {{ with_mailing_name('counted') }}

)

select
    {{ cast_columns(['mailing_id', 'mailing_name', 'variant', 'channel'], dbt.type_string()) }},
    {{ cast_columns([
        'sent', 'delivered', 'opened', 'clicked', 'converted', 'machine_opens'
    ], dbt.type_bigint()) }},
    {{ safe_divide('delivered', 'sent') }} as delivery_rate,
    {{ safe_divide('opened', 'delivered') }} as open_rate,
    {{ safe_divide('clicked', 'opened') }} as click_to_open_rate,
    {{ safe_divide('clicked', 'delivered') }} as click_rate,
    {{ safe_divide('converted', 'clicked') }} as conversion_rate,
    {{ cast_columns(['unsubscribed', 'spam_complaints'], dbt.type_bigint()) }},
    {{ safe_divide('unsubscribed', 'delivered') }} as unsubscribe_rate,
    {{ safe_divide('spam_complaints', 'delivered') }} as spam_rate
from named
