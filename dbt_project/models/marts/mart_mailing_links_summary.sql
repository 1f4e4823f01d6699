-- One row per mailing: its link clicks (clicks with a link, as in mart_link_clicks).
-- links_clicked = distinct links; unique_clicks = distinct (customer, link) pairs;
-- most_popular_link = rank 1 of int_mailing_link_clicks; clicks_per_delivered = total_clicks /
-- delivered recipients (null when none delivered).
with

mailings as (

    select * from {{ ref('int_mailings') }}

),

recipients as (

    select * from {{ ref('int_mailing_recipients') }}

),

link_clicks as (

    select * from {{ ref('int_mailing_link_clicks') }}

),

delivered as (

    select
        mailing_id,
        count(distinct case when is_delivered then customer_id end) as delivered
    from recipients
    group by mailing_id

),

-- a customer counts once per link, so the links' unique clickers add up to the distinct
-- (customer, link) pairs
click_counts as (

    select
        mailing_id,
        sum(total_clicks) as total_clicks,
        count(*) as links_clicked,
        sum(unique_clickers) as unique_clicks
    from link_clicks
    group by mailing_id

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
    left join link_clicks as top_links
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
    {{ cast_columns(['mailing_id', 'mailing_name'], dbt.type_string()) }},
    {{ cast_columns(['total_clicks', 'links_clicked', 'unique_clicks'], dbt.type_bigint()) }},
    cast(most_popular_link as {{ dbt.type_string() }}) as most_popular_link,
    {{ safe_divide('total_clicks', 'delivered') }} as clicks_per_delivered
from named
