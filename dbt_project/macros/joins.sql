{#- left_join_on(base, relations, keys): each of `relations` left-joined onto `base` on the same
    keys (`left join r on base.k1 = r.k1 and base.k2 = r.k2`): the aggregates a model computes per
    mailing (per mailing and variant, per campaign and channel, ...) joined onto its rows the one
    same way. -#}
{% macro left_join_on(base, relations, keys) -%}
    {%- for relation in relations %}
    left join {{ relation }}
        on
        {%- for key in keys %}
            {{ 'and ' if not loop.first }}{{ base }}.{{ key }} = {{ relation }}.{{ key }}
        {%- endfor %}
    {%- endfor %}
{%- endmacro %}
