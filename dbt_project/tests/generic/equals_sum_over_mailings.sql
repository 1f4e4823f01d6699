{#- Campaign roll-up identity (reports.md, mart_campaign_summary): on every campaign × channel
    row, `column_name` equals the sum of `mailing_column` of `mailing_mart` over the row's
    mailings (channel `all`: every mailing of the campaign). `mailing_filter` picks one row per
    mailing when the mart has several (e.g. the funnel's variant = 'all'). A row with no
    mailing in the mart expects null. -#}
{% test equals_sum_over_mailings(model, column_name, mailing_mart, mailing_column, mailing_filter=none) %}

with

per_mailing as (

    select
        mailings.campaign_id,
        mailings.channel,
        mailing_mart.{{ mailing_column }} as mailing_value
    from {{ mailing_mart }} as mailing_mart
    inner join {{ ref('int_mailings') }} as mailings
        on mailing_mart.mailing_id = mailings.mailing_id
    where
        mailings.campaign_id is not null
        {% if mailing_filter %}and {{ mailing_filter }}{% endif %}

),

expected as (

    select
        campaign_id,
        channel,
        sum(mailing_value) as expected_value
    from per_mailing
    group by campaign_id, channel
    union all
    select
        campaign_id,
        'all' as channel,
        sum(mailing_value) as expected_value
    from per_mailing
    group by campaign_id

)

select
    summary.campaign_id,
    summary.channel,
    summary.{{ column_name }} as actual_value,
    expected.expected_value
from {{ model }} as summary
left join expected
    on
        summary.campaign_id = expected.campaign_id
        and summary.channel = expected.channel
where coalesce(summary.{{ column_name }}, -1) <> coalesce(expected.expected_value, -1)

{% endtest %}
