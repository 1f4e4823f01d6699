-- One row per contact and channel (e-mail, SMS) with at least var('hard_bounce_threshold')
-- hard bounces (reports.md, mart_suppressions): the suppression list of int_suppressions, which
-- holds the rule.
with

suppressions as (

    select * from {{ ref('int_suppressions') }}

)

select
    {{ cast_columns(['contact_hash', 'channel'], dbt.type_string()) }},
    cast(hard_bounces as {{ dbt.type_bigint() }}) as hard_bounces,
    cast(suppressed_at as {{ dbt.type_timestamp() }}) as suppressed_at
from suppressions
