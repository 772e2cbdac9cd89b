{#- Integer date key yyyymmdd of a timestamp/date expression (e.g. 20240131). -#}
{% macro e360_date_key(expression) -%}
    {{ return(adapter.dispatch('e360_date_key', 'e360')(expression)) }}
{%- endmacro %}

{% macro default__e360_date_key(expression) -%}
    cast(
        extract(year from {{ expression }}) * 10000
        + extract(month from {{ expression }}) * 100
        + extract(day from {{ expression }})
        as integer
    )
{%- endmacro %}

{% macro duckdb__e360_date_key(expression) -%}
    cast(strftime({{ expression }}, '%Y%m%d') as integer)
{%- endmacro %}

{% macro redshift__e360_date_key(expression) -%}
    cast(to_char({{ expression }}, 'YYYYMMDD') as integer)
{%- endmacro %}
