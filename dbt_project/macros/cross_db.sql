{#-
  Engine-specific SQL lives here, dispatched per adapter, so models stay portable
  (DuckDB today, Spark later). Every macro has default__; duckdb__ and spark__ where
  the default would not run or would mean something else there.
-#}

{# try_cast(expr, type): a cast that yields null instead of failing. #}
{% macro try_cast(expr, type) -%}
    {{ return(adapter.dispatch('try_cast', 'campaign_warehouse')(expr, type)) }}
{%- endmacro %}

{% macro default__try_cast(expr, type) -%}
    cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro duckdb__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}

{% macro spark__try_cast(expr, type) -%}
    try_cast({{ expr }} as {{ type }})
{%- endmacro %}


{# dbt.cast(field, type) on Spark: the contracts name DuckDB's types (their empty-schema query is
   `cast(null as <data_type>)`), and Spark has no unsized VARCHAR; its text type is STRING. #}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ 'string' if type | trim | lower == 'varchar' else type }})
{%- endmacro %}

{# dbt.listagg on Spark: dbt-spark's collect_list ignores the order; Spark 4's LISTAGG keeps it. #}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error('listagg with limit_num is not supported on Spark') }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}

{# type_double(): an 8-byte float (dbt.type_float() is a 4-byte REAL on DuckDB). #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'campaign_warehouse')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    double precision
{%- endmacro %}

{% macro duckdb__type_double() -%}
    double
{%- endmacro %}

{% macro spark__type_double() -%}
    double
{%- endmacro %}


{# to_reporting_tz(ts): a UTC TIMESTAMP (no zone) as local wall-clock TIMESTAMP
   in var('reporting_timezone'). #}
{% macro to_reporting_tz(ts) -%}
    {{ return(adapter.dispatch('to_reporting_tz', 'campaign_warehouse')(ts)) }}
{%- endmacro %}

{% macro default__to_reporting_tz(ts) -%}
    (({{ ts }} at time zone 'UTC') at time zone '{{ var("reporting_timezone") }}')
{%- endmacro %}

{% macro duckdb__to_reporting_tz(ts) -%}
    timezone('{{ var("reporting_timezone") }}', timezone('UTC', {{ ts }}))
{%- endmacro %}

{% macro spark__to_reporting_tz(ts) -%}
    from_utc_timestamp({{ ts }}, '{{ var("reporting_timezone") }}')
{%- endmacro %}


{# date_of(ts) / hour_of(ts): calendar date and hour 0-23 of a timestamp (apply
   to_reporting_tz first for reporting dates). #}
{% macro date_of(ts) -%}
    {{ return(adapter.dispatch('date_of', 'campaign_warehouse')(ts)) }}
{%- endmacro %}

{% macro default__date_of(ts) -%}
    cast({{ ts }} as date)
{%- endmacro %}

{% macro spark__date_of(ts) -%}
    to_date({{ ts }})
{%- endmacro %}

{% macro hour_of(ts) -%}
    {{ return(adapter.dispatch('hour_of', 'campaign_warehouse')(ts)) }}
{%- endmacro %}

{% macro default__hour_of(ts) -%}
    cast(extract(hour from {{ ts }}) as {{ dbt.type_int() }})
{%- endmacro %}

{% macro duckdb__hour_of(ts) -%}
    cast(hour({{ ts }}) as integer)
{%- endmacro %}

{% macro spark__hour_of(ts) -%}
    hour({{ ts }})
{%- endmacro %}


{# add_days(ts, days): ts + days * 24h, keeping the time of day (Spark's date_add,
   which dbt.dateadd uses there, truncates to a DATE). days may be a column. #}
{% macro add_days(ts, days) -%}
    {{ return(adapter.dispatch('add_days', 'campaign_warehouse')(ts, days)) }}
{%- endmacro %}

{% macro default__add_days(ts, days) -%}
    {{ dbt.dateadd('day', days, ts) }}
{%- endmacro %}

{% macro spark__add_days(ts, days) -%}
    timestampadd(DAY, {{ days }}, {{ ts }})
{%- endmacro %}


{# safe_divide(numerator, denominator): a fraction, null when the denominator is 0 or null. #}
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'campaign_warehouse')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__safe_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ campaign_warehouse.type_double() }}) / {{ denominator }}
    end
{%- endmacro %}


{# regexp_replace_all(expr, pattern, replacement): replace every match. Patterns use
   RE2/Java syntax common to both engines; write group references as \1. #}
{% macro regexp_replace_all(expr, pattern, replacement) -%}
    {{ return(adapter.dispatch('regexp_replace_all', 'campaign_warehouse')(expr, pattern, replacement)) }}
{%- endmacro %}

{% macro default__regexp_replace_all(expr, pattern, replacement) -%}
    regexp_replace({{ expr }}, '{{ pattern }}', '{{ replacement }}', 'g')
{%- endmacro %}

{% macro spark__regexp_replace_all(expr, pattern, replacement) -%}
    {#- Java regex replacement strings refer to groups as $1, not \1. -#}
    regexp_replace({{ expr }}, '{{ pattern | replace("\\", "\\\\") }}', '{{ replacement | replace("\\", "$") }}')
{%- endmacro %}


{# normalize_link(url): the clicked URL without its fragment and without utm_*
   query parameters (reports.md, "Link"). #}
{% macro normalize_link(url) -%}
    {{ return(adapter.dispatch('normalize_link', 'campaign_warehouse')(url)) }}
{%- endmacro %}

{% macro default__normalize_link(url) -%}
    {%- set no_fragment = campaign_warehouse.regexp_replace_all('trim(' ~ url ~ ')', '#.*$', '') -%}
    {%- set no_utm = campaign_warehouse.regexp_replace_all(no_fragment, '[?&][uU][tT][mM]_[^&]*', '') -%}
    {%- set first_separator = campaign_warehouse.regexp_replace_all(no_utm, '^([^?]*)&', '\\1?') -%}
    nullif({{ campaign_warehouse.regexp_replace_all(first_separator, '[?]$', '') }}, '')
{%- endmacro %}


{# register_landed_tables(): on-run-start. On Spark, the raw tables (and audit.run_window) are
   Parquet folders that ingestion lands under CW_SPARK_DIR/landing (ingestion/spark_landing.py):
   register each as a Spark table over its folder and see the files landed since the last run.
   On DuckDB ingestion writes the tables themselves: nothing to do. #}
{% macro register_landed_tables() -%}
    {{ return(adapter.dispatch('register_landed_tables', 'campaign_warehouse')()) }}
{%- endmacro %}

{% macro default__register_landed_tables() -%}
{%- endmacro %}

{% macro spark__register_landed_tables() -%}
    {%- if execute -%}
        {%- set landing = env_var('CW_SPARK_DIR', '../data/spark') ~ '/landing' -%}
        {%- set tables = [] -%}
        {%- for source in graph.sources.values() | sort(attribute='name') -%}
            {%- do tables.append((source.schema, source.identifier)) -%}
        {%- endfor -%}
        {%- do tables.append(('audit', 'run_window')) -%}
        {%- for schema in tables | map(attribute=0) | unique -%}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor -%}
        {%- for schema, table in tables -%}
            {%- do run_query(
                'create table if not exists ' ~ schema ~ '.' ~ table ~ ' using parquet location '
                ~ dbt.string_literal(landing ~ '/' ~ schema ~ '/' ~ table)
            ) -%}
            {%- do run_query('refresh table ' ~ schema ~ '.' ~ table) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}


{# Seeds on Spark: dbt-spark's session method puts each binding between quotes without escaping
   it (a seed value with an apostrophe breaks the insert). The values go in as escaped literals. #}
{% macro spark__load_csv_rows(model, agate_table) -%}
    {%- set column_types = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set rows = [] -%}
        {%- for row in chunk -%}
            {%- set values = [] -%}
            {%- for value in row -%}
                {%- set column = agate_table.column_names[loop.index0] -%}
                {%- set type = column_types.get(column, adapter.convert_type(agate_table, loop.index0)) -%}
                {%- set text = value | string | replace('\\', '\\\\') | replace("'", "\\'") -%}
                {%- do values.append(
                    'cast(' ~ ('null' if value is none else "'" ~ text ~ "'") ~ ' as ' ~ type ~ ')'
                ) -%}
            {%- endfor -%}
            {%- do rows.append('(' ~ values | join(', ') ~ ')') -%}
        {%- endfor -%}
        {%- set sql = 'insert into ' ~ this.render() ~ ' values ' ~ rows | join(', ') -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{%- endmacro %}
