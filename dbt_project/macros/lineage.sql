{#-
    The lineage columns ingestion stamps on every raw row (docs/architecture.md): when it was
    loaded, from which file, and which record of the file. Staging keeps them, the incremental
    facts use them to find newly landed rows and to break ties between copies of a record.
-#}

{% macro lineage_columns() -%}
    _ingested_at,
    _file_hash,
    _row_number
{%- endmacro %}


{% macro load_order(direction, relation=none) -%}
    {#- the order raw rows were loaded in: ingestion time, then file, then record (asc: first) -#}
    {%- set column = (relation ~ '.') if relation else '' -%}
    {{ column }}_ingested_at {{ direction }}, {{ column }}_file_hash {{ direction }}, {{ column }}_row_number {{ direction }}
{%- endmacro %}


{% macro rank_exported_snapshots(relation, key) -%}
    {#-
        The rows of `relation` ranked per `key`, newest export first (snapshot_rank 1: the latest
        snapshot, the one that counts); ties go to the copy loaded last. The rule of the snapshot
        feeds (campaigns, mailings, products: DECISIONLOG "Latest snapshot wins").
    -#}
    select
        *,
        row_number() over (
            partition by {{ key }}
            order by exported_at desc nulls last, {{ load_order('desc') }}
        ) as snapshot_rank
    from {{ relation }}
{%- endmacro %}
