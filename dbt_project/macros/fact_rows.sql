{#-
    Row-level helpers the incremental facts share (models/facts): the partition date of a
    source's rows and the "first copy wins" ranking of a batch. One definition each, so every
    fact dates its rows and picks its copies the same way (ties: load_order, macros/lineage.sql).
-#}

{% macro with_partition_date(relation, time_expression) -%}
    {#- every row of `relation` with partition_date: the UTC date of `time_expression` -#}
    select
        *,
        {{ date_of(time_expression) }} as partition_date
    from {{ relation }}
{%- endmacro %}


{% macro receipt_time() -%}
    {#- a POS receipt belongs to the time of the purchase -#}
    purchased_at
{%- endmacro %}


{% macro order_time() -%}
    {#- created_at is shared by every snapshot of an order; updated_at stands in if missing -#}
    coalesce(created_at, updated_at)
{%- endmacro %}


{% macro first_copy_ranked(relation, key) -%}
    {#-
        The rows of `relation` (a CTE with partition_date) in this run's batch, each copy of a
        record ranked by load order (copy_rank 1: the first copy loaded, the one that counts).
    -#}
    select
        *,
        row_number() over (
            partition by {{ key }}
            order by {{ load_order('asc') }}
        ) as copy_rank
    from {{ relation }}
    where {{ in_fact_batch(relation ~ '.partition_date') }}
{%- endmacro %}
