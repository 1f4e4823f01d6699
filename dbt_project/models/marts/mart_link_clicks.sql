-- One row per mailing and link (the clicked URL without fragment and utm_* parameters, from
-- int_provider_events). share_of_openers = unique_clickers / opened (e-mail) or / delivered
-- (SMS, push); rank by unique_clickers, then total_clicks, then link; rank 1 is the most popular.
with

mailings as (

    select * from {{ ref('int_mailings') }}

),

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

clicks as (

    select * from {{ ref('int_provider_events') }}
    where is_matched_to_dispatch and event_type = 'clicked' and link is not null

),

reach as (

    select
        mailing_id,
        count(distinct case when is_opened then customer_id end) as opened,
        count(distinct case when is_delivered then customer_id end) as delivered
    from recipients
    where is_recipient
    group by mailing_id

),

link_counts as (

    select
        mailing_id,
        link,
        count(*) as total_clicks,
        count(distinct customer_id) as unique_clickers
    from clicks
    group by mailing_id, link

),

ranked as (

    select
        link_counts.mailing_id,
        link_counts.link,
        link_counts.total_clicks,
        link_counts.unique_clickers,
        case when mailings.channel = 'email' then reach.opened else reach.delivered end as base,
        row_number() over (
            partition by link_counts.mailing_id
            order by link_counts.unique_clickers desc, link_counts.total_clicks desc, link_counts.link asc
        ) as link_rank
    from link_counts
    inner join mailings
        on link_counts.mailing_id = mailings.mailing_id
    left join reach
        on link_counts.mailing_id = reach.mailing_id

),

named as (

    {{ with_mailing_name('ranked') }}

)

select
    cast(mailing_id as {{ dbt.type_string() }}) as mailing_id,
    cast(mailing_name as {{ dbt.type_string() }}) as mailing_name,
    cast(link as {{ dbt.type_string() }}) as link,
    cast(total_clicks as {{ dbt.type_bigint() }}) as total_clicks,
    cast(unique_clickers as {{ dbt.type_bigint() }}) as unique_clickers,
    {{ safe_divide('unique_clickers', 'base') }} as share_of_openers,
    cast(link_rank as {{ dbt.type_bigint() }}) as rank, -- noqa: RF04
    link_rank = 1 as is_most_popular
from named
