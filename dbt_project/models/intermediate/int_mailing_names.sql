-- One row per mailing with the names a chart shows next to its ids: the mailing's and its
-- campaign's (null for a standalone mailing or a campaign missing from the export). Every mart
-- that shows a mailing_id or campaign_id reads its names here, so a chart needs no join.
with

mailings as (

    select * from {{ ref('int_mailings') }}

),

campaigns as (

    select * from {{ ref('stg_marketing__campaigns') }}

)

select
    mailings.mailing_id,
    mailings.mailing_name,
    campaigns.campaign_name
from mailings
left join campaigns
    on mailings.campaign_id = campaigns.campaign_id
