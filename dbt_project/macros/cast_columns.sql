{#- cast_columns(columns, type): each column cast to `type` under its own name, the way a model's
    final select gives its columns their published (contract) types: `cast(a as type) as a, ...`.
    One rule for every such list, e.g. the counts of a mart: cast_columns(['sent', 'delivered'],
    dbt.type_bigint()). -#}
{% macro cast_columns(columns, type) -%}
    {%- for column in columns -%}
        cast({{ column }} as {{ type }}) as {{ column }}{{ ',\n    ' if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
