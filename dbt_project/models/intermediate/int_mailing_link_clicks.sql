-- One row per mailing and link clicked (the clicked URL without fragment and utm_* parameters,
-- from int_provider_events): its click events, the distinct customers who clicked it and its rank
-- among the mailing's links by unique_clickers, then total_clicks, then link (rank 1: the most
-- popular). mart_link_clicks publishes it; mart_mailing_links_summary sums it per mailing.
with

clicks as (

    select * from {{ ref('int_provider_events') }}
    where is_matched_to_dispatch and event_type = 'clicked' and link is not null

),

link_counts as (

    select
        mailing_id,
        link,
        count(*) as total_clicks,
        count(distinct customer_id) as unique_clickers
    from clicks
    group by mailing_id, link

)

select
    mailing_id,
    link,
    total_clicks,
    unique_clickers,
    row_number() over (
        partition by mailing_id
        order by unique_clickers desc, total_clicks desc, link asc
    ) as link_rank
from link_counts
