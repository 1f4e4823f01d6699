{#-
    Incremental facts (docs in models/facts/_facts.yml and DECISIONLOG.md).

    A fact is rebuilt one replacement unit at a time (a UTC `partition_date`; for the audience, a
    mailing). A run rebuilds the units that
      - hold raw rows ingested after the fact's watermark (the newest `_ingested_at` its previous
        build saw, kept in `_source_loaded_through`): newly landed files, however late; and
      - fall in the run's window [window_start - lookback_days, window_end), when orchestration
        gives one (a Dagster partition or backfill range, in audit.run_window: run_window_bounds).
    Each unit is recomputed from all of its raw rows and replaces the old one in one transaction
    (`delete+insert` on the unit), so a run never appends duplicates and re-running changes nothing.
-#}

{% macro fact_watermark() -%}
    {#- the newest raw ingestion the previous build of this fact saw -#}
    (
        select coalesce(max(_source_loaded_through), {{ dbt.cast("'1900-01-01'", dbt.type_timestamp()) }})
        from {{ this }}
    )
{%- endmacro %}


{% macro source_loaded_through(relations, column='_ingested_at') -%}
    {#-
        The newest raw ingestion among a model's inputs, stamped on every row this run builds:
        the raw tables' `_ingested_at` for a fact, the inputs' own `_source_loaded_through` for
        an incremental intermediate model.
    -#}
    (
        select max(loaded_at) from (
            {%- for relation in relations %}
            select max({{ column }}) as loaded_at from {{ relation }}
            {%- if not loop.last %} union all{% endif %}
            {%- endfor %}
        ) as loaded
    )
{%- endmacro %}


{% macro lookback_days_sql() -%}
    {#-
        Days before window_start that a windowed run rebuilds too: var lookback_days (default 0).
        A fact's unit depends only on its own raw rows, and the watermark already rebuilds every
        unit that received rows, however late; a lookback only re-does unchanged units.
    -#}
    {{ var('lookback_days', 0) | int }}
{%- endmacro %}


{% macro run_window_bounds() -%}
    {#-
        The run's window [start, end) as two SQL date expressions, or none when there is none.
        Orchestration writes it to audit.run_window before dbt runs (orchestration/run_window.py),
        so the vars, and with them dbt's parse, stay the same from run to run. Vars window_start and
        window_end, when given (dbt by hand, tests), take precedence. Read at execution only: the
        table is not dbt's, and a warehouse without it has no window.
    -#}
    {%- if var('window_start', none) and var('window_end', none) -%}
        {{ return([
            dbt.cast(dbt.string_literal(var('window_start')), 'date'),
            dbt.cast(dbt.string_literal(var('window_end')), 'date'),
        ]) }}
    {%- endif -%}
    {%- if execute -%}
        {%- set run_window = adapter.get_relation(
            database=target.database, schema='audit', identifier='run_window'
        ) -%}
        {%- if run_window is not none -%}
            {{ return([
                '(select min(window_start) from ' ~ run_window ~ ')',
                '(select max(window_end) from ' ~ run_window ~ ')',
            ]) }}
        {%- endif -%}
    {%- endif -%}
    {{ return(none) }}
{%- endmacro %}


{% macro in_run_window(date_column) -%}
    {#- true for dates in the run's window widened by the lookback; false when there is none -#}
    {%- set bounds = run_window_bounds() -%}
    {%- if bounds -%}
        coalesce(
            {{ date_column }} >= {{ add_days(bounds[0], '-1 * ' ~ lookback_days_sql()) }}
            and {{ date_column }} < {{ bounds[1] }},
            false
        )
    {%- else -%}
        false
    {%- endif -%}
{%- endmacro %}


{% macro in_fact_batch(unit_column) -%}
    {#-
        The rows a run (re)builds: on an incremental run, the units in the model's `touched_dates`
        CTE or in the run's window; on a first build or --full-refresh, all of them.
    -#}
    {%- if is_incremental() -%}
        (
            {{ unit_column }} in (select touched_dates.partition_date from touched_dates)
            or {{ in_run_window(unit_column) }}
        )
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}


{% macro purchase_touched_dates() -%}
    {#-
        Purchase dates holding newly loaded rows of the four commerce feeds. Lines carry no date:
        a new line touches the date of its receipt or order. Expects the CTEs receipts and orders
        (with partition_date), receipt_lines and order_lines.
    -#}
    select partition_date from receipts
    where _ingested_at > {{ fact_watermark() }}
    union
    select partition_date from orders
    where _ingested_at > {{ fact_watermark() }}
    union
    select receipts.partition_date
    from receipt_lines
    inner join receipts
        on receipt_lines.receipt_id = receipts.receipt_id
    where receipt_lines._ingested_at > {{ fact_watermark() }}
    union
    select orders.partition_date
    from order_lines
    inner join orders
        on order_lines.order_id = orders.order_id
    where order_lines._ingested_at > {{ fact_watermark() }}
{%- endmacro %}
