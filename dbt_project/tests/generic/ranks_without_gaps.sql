{#- Within every partition, the rank column runs 1, 2, ..., n: no gap, no duplicate. -#}
{% test ranks_without_gaps(model, column_name, partition_by) %}

select
    {{ partition_by | join(', ') }},
    min({{ column_name }}) as min_rank,
    max({{ column_name }}) as max_rank,
    count(*) as ranked_rows,
    count(distinct {{ column_name }}) as distinct_ranks
from {{ model }}
group by {{ partition_by | join(', ') }}
having
    min({{ column_name }}) <> 1
    or max({{ column_name }}) <> count(*)
    or count(distinct {{ column_name }}) <> count(*)
    or count({{ column_name }}) <> count(*)

{% endtest %}
