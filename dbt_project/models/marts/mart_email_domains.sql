-- One row per e-mail mailing and recipient domain (reports.md, mart_email_domains): the domain of
-- the address the mailing's audience row holds (fct_audience.email_domain, kept at ingestion).
-- A domain with fewer than 50 recipients in the mailing is folded into `other` (so no small
-- domain, a company's own, is published), as is a recipient whose domain is unknown (sent to
-- someone outside the audience). sent, delivered, bounces, opened and spam complaints count
-- messages (int_message_outcomes, as mart_channel_daily does); blocked and deferred count
-- recipients with such provider events. delivery_rate = delivered / sent, open_rate = opened /
-- delivered.
with

messages as (

    select * from {{ ref('int_message_outcomes') }}
    where channel = 'email'

),

audience as (

    select * from {{ ref('fct_audience') }}

),

addressed_messages as (

    select
        messages.*,
        audience.email_domain
    from messages
    left join audience
        on
            messages.mailing_id = audience.mailing_id
            and messages.customer_id = audience.customer_id

),

domain_sizes as (

    select
        mailing_id,
        email_domain,
        count(distinct customer_id) as recipients
    from addressed_messages
    where email_domain is not null
    group by mailing_id, email_domain

),

folded as (

    select
        addressed_messages.*,
        case
            when domain_sizes.recipients >= 50 then addressed_messages.email_domain
            else 'other'
        end as published_domain
    from addressed_messages
    left join domain_sizes
        on
            addressed_messages.mailing_id = domain_sizes.mailing_id
            and addressed_messages.email_domain = domain_sizes.email_domain

),

counted as (

    select
        mailing_id,
        published_domain,
        count(distinct customer_id) as recipients,
        {{ message_status_counts() }},
        count(distinct case when was_blocked then customer_id end) as blocked,
        count(distinct case when was_deferred then customer_id end) as deferred_recipients,
        count(case when is_opened then 1 end) as opened,
        count(case when has_spam_complaint then 1 end) as spam_complaints
    from folded
    group by mailing_id, published_domain

),

named as (

    {{ with_mailing_name('counted') }}

)

select
    {{ cast_columns(['mailing_id', 'mailing_name'], dbt.type_string()) }},
    cast(published_domain as {{ dbt.type_string() }}) as domain, -- noqa: RF04
    {{ cast_columns([
        'recipients', 'sent', 'delivered', 'soft_bounces', 'hard_bounces', 'blocked'
    ], dbt.type_bigint()) }},
    cast(deferred_recipients as {{ dbt.type_bigint() }}) as deferred, -- noqa: RF04
    {{ cast_columns(['opened', 'spam_complaints'], dbt.type_bigint()) }},
    {{ safe_divide('delivered', 'sent') }} as delivery_rate,
    {{ safe_divide('opened', 'delivered') }} as open_rate
from named
