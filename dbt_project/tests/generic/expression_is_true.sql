{#-
  Fails for every row where `expression` is false. Rows where it evaluates to null pass,
  like dbt's built-in tests; write `x is not null and ...` to be strict.
-#}
{% test expression_is_true(model, expression, column_name=none) %}

select *
from {{ model }}
where not ({{ expression }})

{% endtest %}
