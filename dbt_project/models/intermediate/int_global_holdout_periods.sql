-- One row per global holdout period of a customer (feeds.md, `holdouts`): a later export of the
-- same customer and valid_from replaces the earlier one. "Later" is the later ingestion; within
-- one ingestion (several exports landed together) a closed period replaces an open one, and of
-- two closed ones the earlier valid_to wins, since an export only ever closes a period
-- (DECISIONLOG "Global holdout periods"). A customer is held out in [valid_from, valid_to).
with

holdouts as (

    select * from {{ ref('stg_marketing__holdouts') }}
    where holdout = 'global'

),

ranked as (

    select
        customer_id,
        valid_from,
        valid_to,
        row_number() over (
            partition by customer_id, valid_from
            order by
                _ingested_at desc,
                case when valid_to is null then 1 else 0 end asc,
                valid_to asc,
                _file_hash desc,
                _row_number desc
        ) as export_rank
    from holdouts

)

select
    customer_id,
    valid_from,
    valid_to
from ranked
where export_rank = 1
