-- One row per mailing: its link clicks (clicks with a link, as in mart_link_clicks).
-- links_clicked = distinct links; unique_clicks = distinct (customer, link) pairs;
-- most_popular_link = rank 1 of mart_link_clicks' order; clicks_per_delivered = total_clicks /
-- delivered recipients (null when none delivered).
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

delivered as (

    select
        mailing_id,
        count(distinct case when is_delivered then customer_id end) as delivered
    from recipients
    group by mailing_id

),

click_counts as (

    select
        mailing_id,
        count(*) as total_clicks,
        count(distinct link) as links_clicked,
        count(distinct {{ dbt.concat(['customer_id', "'|'", 'link']) }}) as unique_clicks
    from clicks
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

top_links as (

    select
        mailing_id,
        link,
        row_number() over (
            partition by mailing_id
            order by unique_clickers desc, total_clicks desc, link asc
        ) as link_rank
    from link_counts

),

counted as (

    select
        mailings.mailing_id,
        coalesce(click_counts.total_clicks, 0) as total_clicks,
        coalesce(click_counts.links_clicked, 0) as links_clicked,
        coalesce(click_counts.unique_clicks, 0) as unique_clicks,
        top_links.link as most_popular_link,
        coalesce(delivered.delivered, 0) as delivered
    from mailings
    left join click_counts
        on mailings.mailing_id = click_counts.mailing_id
    left join top_links
        on
            mailings.mailing_id = top_links.mailing_id
            and top_links.link_rank = 1
    left join delivered
        on mailings.mailing_id = delivered.mailing_id

),

named as (

    {{ with_mailing_name('counted') }}

)

select
    cast(mailing_id as {{ dbt.type_string() }}) as mailing_id,
    cast(mailing_name as {{ dbt.type_string() }}) as mailing_name,
    cast(total_clicks as {{ dbt.type_bigint() }}) as total_clicks,
    cast(links_clicked as {{ dbt.type_bigint() }}) as links_clicked,
    cast(unique_clicks as {{ dbt.type_bigint() }}) as unique_clicks,
    cast(most_popular_link as {{ dbt.type_string() }}) as most_popular_link,
    {{ safe_divide('total_clicks', 'delivered') }} as clicks_per_delivered
from named
