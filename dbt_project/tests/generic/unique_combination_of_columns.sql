{#- Fails for every combination of `combination_of_columns` that occurs more than once. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

{%- set column_list = combination_of_columns | join(', ') %}

select
    {{ column_list }},
    count(*) as n_records
from {{ model }}
group by {{ column_list }}
having count(*) > 1

{% endtest %}
