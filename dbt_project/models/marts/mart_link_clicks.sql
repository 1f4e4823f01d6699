-- One row per mailing and link (the clicked URL without fragment and utm_* parameters, from
-- int_mailing_link_clicks). share_of_openers = unique_clickers / opened (e-mail) or / delivered
-- (SMS, push); rank by unique_clickers, then total_clicks, then link; rank 1 is the most popular.
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

reach as (

    select
        mailing_id,
        count(distinct case when is_opened then customer_id end) as opened,
        count(distinct case when is_delivered then customer_id end) as delivered
    from recipients
    where is_recipient
    group by mailing_id

),

based as (

    select
        link_clicks.*,
        case when mailings.channel = 'email' then reach.opened else reach.delivered end as base
    from link_clicks
    inner join mailings
        on link_clicks.mailing_id = mailings.mailing_id
    left join reach
        on link_clicks.mailing_id = reach.mailing_id

),

named as (

    {{ with_mailing_name('based') }}

)

select
    {{ cast_columns(['mailing_id', 'mailing_name', 'link'], dbt.type_string()) }},
    {{ cast_columns(['total_clicks', 'unique_clickers'], dbt.type_bigint()) }},
    {{ safe_divide('unique_clickers', 'base') }} as share_of_openers,
    cast(link_rank as {{ dbt.type_bigint() }}) as rank, -- noqa: RF04
    link_rank = 1 as is_most_popular
from named
