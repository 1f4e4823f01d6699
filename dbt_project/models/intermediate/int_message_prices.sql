-- The price list with validity periods (feeds.md, `message_prices`): a price of a channel and
-- provider applies from its valid_from until the next valid_from of the same channel and
-- provider (valid_to, exclusive; null for the latest). The same channel, provider and
-- valid_from exported again: the latest ingested row wins.
with

prices as (

    select * from {{ ref('stg_marketing__message_prices') }}

),

latest_export as (

    select
        *,
        row_number() over (
            partition by channel, provider, valid_from
            order by _ingested_at desc, _file_hash desc, _row_number desc
        ) as export_rank
    from prices

)

select
    channel,
    provider,
    unit,
    price,
    valid_from,
    lead(valid_from) over (partition by channel, provider order by valid_from) as valid_to
from latest_export
where export_rank = 1
