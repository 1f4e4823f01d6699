{#- The rows of `relation` (a CTE with a mailing_id column) with their mailing's name, read from
    int_mailing_names: every mart that shows a mailing_id shows its mailing_name (reports.md),
    joined the same way everywhere (a left join: a mailing missing from the export keeps its
    rows, with a null name). -#}
{% macro with_mailing_name(relation) -%}
    select
        {{ relation }}.*,
        mailing_names.mailing_name
    from {{ relation }}
    left join {{ ref('int_mailing_names') }} as mailing_names
        on {{ relation }}.mailing_id = mailing_names.mailing_id
{%- endmacro %}
