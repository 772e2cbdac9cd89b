{#- Number of items in a delimited string list ('crm,erp,web' -> 3); 0 for null/empty. -#}
{% macro e360_list_length(expression, delimiter=",") -%}
    {{ return(adapter.dispatch('e360_list_length', 'e360')(expression, delimiter)) }}
{%- endmacro %}

{% macro default__e360_list_length(expression, delimiter) -%}
    case
        when {{ expression }} is null or {{ dbt.length(expression) }} = 0 then 0
        else {{ dbt.length(expression) }}
            - {{ dbt.length(dbt.replace(expression, "'" ~ delimiter ~ "'", "''")) }} + 1
    end
{%- endmacro %}
