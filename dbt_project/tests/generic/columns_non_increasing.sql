{#- Nested stages: every column is >= each column listed after it (e.g. the funnel
    sent >= delivered >= opened >= clicked >= converted). A null stage (SMS has no
    opens) is skipped: its neighbours are compared with each other instead. -#}
{% test columns_non_increasing(model, columns) %}

select *
from {{ model }}
where
    false
    {%- for i in range(columns | length) %}
        {%- for j in range(i + 1, columns | length) %}
    or ({{ columns[i] }} is not null and {{ columns[j] }} is not null and {{ columns[i] }} < {{ columns[j] }})
        {%- endfor %}
    {%- endfor %}

{% endtest %}
