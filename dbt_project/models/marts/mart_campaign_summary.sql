-- One row per campaign and channel (reports.md, mart_campaign_summary): `all` for every mailing
-- of the campaign, plus one row per channel the campaign used. Messages and events (sent,
-- delivered, total_clicks, segments, unsubscribes) are summed over the row's mailings, each
-- mailing counted as its per-mailing mart counts it (mart_mailing_funnel's `all` row,
-- mart_sms_delivery for segments, both from the same intermediate models), so a customer mailed
-- twice counts twice. unique_clickers are distinct customers across the row's mailings. A
-- purchase that several of the row's mailings claim counts once: direct if any claims it as
-- direct, else assisted. conversion_rate = unique clickers with a direct purchase /
-- unique_clickers. Standalone mailings (no campaign) are left out.
with

mailings as (

    select * from {{ ref('int_mailings') }}
    where campaign_id is not null

),

mailing_names as (

    select * from {{ ref('int_mailing_names') }}

),

campaign_names as (

    select
        mailings.campaign_id,
        max(mailing_names.campaign_name) as campaign_name
    from mailings
    inner join mailing_names
        on mailings.mailing_id = mailing_names.mailing_id
    group by mailings.campaign_id

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

sms_segments as (

    select * from {{ ref('int_sms_segments') }}

),

-- Which summary rows each mailing belongs to: `all` and its own channel.
mailing_rows as (

    select
        campaign_id,
        'all' as channel,
        mailing_id,
        channel as mailing_channel,
        window_start_at
    from mailings
    union all
    select
        campaign_id,
        channel,
        mailing_id,
        channel as mailing_channel,
        window_start_at
    from mailings

),

mailing_counts as (

    select
        campaign_id,
        channel,
        count(distinct mailing_id) as mailings,
        max(window_start_at) as last_sent_at
    from mailing_rows
    group by campaign_id, channel

),

-- Per mailing, as the per-mailing marts count it: recipients (sent), delivered recipients and
-- click events (mart_mailing_funnel), segments (mart_sms_delivery), unsubscribers.
mailing_messages as (

    select
        mailing_id,
        count(case when is_recipient then 1 end) as sent,
        count(case when is_recipient and is_delivered then 1 end) as delivered,
        sum(clicks) as total_clicks
    from recipients
    group by mailing_id

),

mailing_segments as (

    select
        mailing_id,
        sum(segments) as segments
    from sms_segments
    group by mailing_id

),

mailing_unsubscribes as (

    select
        mailing_id,
        count(distinct customer_id) as unsubscribes
    from opt_outs
    where event_type = 'unsubscribed' and mailing_id is not null
    group by mailing_id

),

messages as (

    select
        mailing_rows.campaign_id,
        mailing_rows.channel,
        sum(mailing_messages.sent) as sent,
        sum(mailing_messages.delivered) as delivered,
        sum(mailing_messages.total_clicks) as total_clicks,
        sum(case when mailing_rows.mailing_channel = 'sms' then coalesce(mailing_segments.segments, 0) end)
            as segments,
        sum(mailing_unsubscribes.unsubscribes) as unsubscribes
    from mailing_rows
    {{ left_join_on(
        'mailing_rows',
        ['mailing_messages', 'mailing_segments', 'mailing_unsubscribes'],
        ['mailing_id']
    ) }}
    group by mailing_rows.campaign_id, mailing_rows.channel

),

people as (

    select
        mailing_rows.campaign_id,
        mailing_rows.channel,
        count(distinct case when recipients.is_clicked then recipients.customer_id end) as unique_clickers
    from mailing_rows
    inner join recipients
        on mailing_rows.mailing_id = recipients.mailing_id
    group by mailing_rows.campaign_id, mailing_rows.channel

),

-- One row per summary row and claimed purchase: direct if any mailing claims it as direct.
claimed_purchases as (

    select
        mailing_rows.campaign_id,
        mailing_rows.channel,
        mailing_purchases.purchase_key,
        max(mailing_purchases.customer_id) as customer_id,
        max(mailing_purchases.revenue) as revenue,
        max(case when mailing_purchases.attribution = 'direct' then 1 else 0 end) as is_direct
    from mailing_rows
    inner join mailing_purchases
        on mailing_rows.mailing_id = mailing_purchases.mailing_id
    where mailing_purchases.attribution is not null
    group by mailing_rows.campaign_id, mailing_rows.channel, mailing_purchases.purchase_key

),

purchase_counts as (

    select
        campaign_id,
        channel,
        count(case when is_direct = 1 then purchase_key end) as direct_purchases,
        count(case when is_direct = 0 then purchase_key end) as assisted_purchases,
        sum(case when is_direct = 1 then revenue else 0 end) as direct_revenue,
        sum(case when is_direct = 0 then revenue else 0 end) as assisted_revenue
    from claimed_purchases
    group by campaign_id, channel

),

clickers as (

    select distinct
        mailing_rows.campaign_id,
        mailing_rows.channel,
        recipients.customer_id
    from mailing_rows
    inner join recipients
        on mailing_rows.mailing_id = recipients.mailing_id
    where recipients.is_clicked

),

direct_buyers as (

    select distinct
        campaign_id,
        channel,
        customer_id
    from claimed_purchases
    where is_direct = 1

),

converted as (

    select
        clickers.campaign_id,
        clickers.channel,
        count(distinct clickers.customer_id) as converted_clickers
    from clickers
    inner join direct_buyers
        on
            clickers.campaign_id = direct_buyers.campaign_id
            and clickers.channel = direct_buyers.channel
            and clickers.customer_id = direct_buyers.customer_id
    group by clickers.campaign_id, clickers.channel

),

summary as (

    select
        mailing_counts.campaign_id,
        mailing_counts.channel,
        mailing_counts.mailings,
        mailing_counts.last_sent_at,
        coalesce(messages.sent, 0) as sent,
        coalesce(messages.delivered, 0) as delivered,
        coalesce(people.unique_clickers, 0) as unique_clickers,
        coalesce(messages.total_clicks, 0) as total_clicks,
        messages.segments,
        coalesce(messages.unsubscribes, 0) as unsubscribes,
        coalesce(purchase_counts.direct_purchases, 0) as direct_purchases,
        coalesce(purchase_counts.assisted_purchases, 0) as assisted_purchases,
        coalesce(purchase_counts.direct_revenue, 0) as direct_revenue,
        coalesce(purchase_counts.assisted_revenue, 0) as assisted_revenue,
        coalesce(converted.converted_clickers, 0) as converted_clickers
    from mailing_counts
    {{ left_join_on(
        'mailing_counts',
        ['messages', 'people', 'purchase_counts', 'converted'],
        ['campaign_id', 'channel']
    ) }}

),

named as (

    select
        summary.*,
        campaign_names.campaign_name
    from summary
    left join campaign_names
        on summary.campaign_id = campaign_names.campaign_id

)

select
    {{ cast_columns(['campaign_id', 'campaign_name', 'channel'], dbt.type_string()) }},
    cast(mailings as {{ dbt.type_bigint() }}) as mailings,
    last_sent_at,
    {{ cast_columns([
        'sent', 'delivered', 'unique_clickers', 'total_clicks', 'segments', 'unsubscribes',
        'direct_purchases', 'assisted_purchases'
    ], dbt.type_bigint()) }},
    cast(direct_revenue as decimal(38, 2)) as direct_revenue,
    cast(assisted_revenue as decimal(38, 2)) as assisted_revenue,
    {{ safe_divide('unique_clickers', 'delivered') }} as click_to_delivered_rate,
    {{ safe_divide('converted_clickers', 'unique_clickers') }} as conversion_rate,
    cast(converted_clickers as {{ dbt.type_bigint() }}) as converted_clickers
from named
