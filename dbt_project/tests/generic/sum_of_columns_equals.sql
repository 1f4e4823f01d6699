{#- Identity check: total = part_1 + part_2 + ... on every row. -#}
{% test sum_of_columns_equals(model, total, parts) %}

select *
from {{ model }}
where
    {{ total }} is null
    or {{ total }} <> ({% for part in parts %}coalesce({{ part }}, 0){% if not loop.last %} + {% endif %}{% endfor %})

{% endtest %}
