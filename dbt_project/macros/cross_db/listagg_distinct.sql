{#-
  Sorted, de-duplicated, delimited list of a string expression (aggregate).
  dbt.listagg() has no DISTINCT, and the syntax differs: PostgreSQL/DuckDB use
  string_agg(distinct x, d order by x); Redshift uses listagg(distinct x, d) within group (...).
-#}
{% macro e360_listagg_distinct(expression, delimiter=",") -%}
    {{ return(adapter.dispatch('e360_listagg_distinct', 'e360')(expression, delimiter)) }}
{%- endmacro %}

{% macro default__e360_listagg_distinct(expression, delimiter) -%}
    string_agg(distinct {{ expression }}, '{{ delimiter }}' order by {{ expression }})
{%- endmacro %}

{% macro redshift__e360_listagg_distinct(expression, delimiter) -%}
    listagg(distinct {{ expression }}, '{{ delimiter }}') within group (order by {{ expression }})
{%- endmacro %}
