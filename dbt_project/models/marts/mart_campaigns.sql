-- One row per campaign (latest snapshot) with its mailings: channels (distinct channels of its
-- mailings, sorted, comma-separated), mailings (all, any status), first_sent_at / last_sent_at
-- (earliest and latest send start of its sent mailings: sent_at, else the first sent dispatch).
-- Campaigns are a dimension, read from staging (no event table).
with

campaigns as (

    select * from {{ ref('stg_marketing__campaigns') }}

),

mailings as (

    select * from {{ ref('int_mailings') }}
    where campaign_id is not null

),

mailing_counts as (

    select
        campaign_id,
        count(*) as mailings,
        min(window_start_at) as first_sent_at,
        max(window_start_at) as last_sent_at
    from mailings
    group by campaign_id

),

campaign_channels as (

    select distinct
        campaign_id,
        channel
    from mailings
    where channel is not null

),

channel_lists as (

    select
        campaign_id,
        {{ dbt.listagg('channel', "','", 'order by channel') }} as channels
    from campaign_channels
    group by campaign_id

)

select
    cast(campaigns.campaign_id as {{ dbt.type_string() }}) as campaign_id,
    cast(campaigns.campaign_name as {{ dbt.type_string() }}) as name, -- noqa: RF04
    cast(campaigns.campaign_type as {{ dbt.type_string() }}) as type, -- noqa: RF04
    cast(campaigns.campaign_status as {{ dbt.type_string() }}) as status, -- noqa: RF04
    cast(campaigns.created_at as {{ dbt.type_timestamp() }}) as created_at,
    cast(channel_lists.channels as {{ dbt.type_string() }}) as channels,
    cast(coalesce(mailing_counts.mailings, 0) as {{ dbt.type_bigint() }}) as mailings,
    cast(mailing_counts.first_sent_at as {{ dbt.type_timestamp() }}) as first_sent_at,
    cast(mailing_counts.last_sent_at as {{ dbt.type_timestamp() }}) as last_sent_at
from campaigns
{{ left_join_on('campaigns', ['mailing_counts', 'channel_lists'], ['campaign_id']) }}
