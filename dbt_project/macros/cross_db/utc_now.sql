{#-
  Current time as a naive UTC `timestamp` (the lake's convention).
  dbt.current_timestamp() is timezone-aware on DuckDB/PostgreSQL, so convert explicitly.
-#}
{% macro e360_utc_now() -%}
    {{ return(adapter.dispatch('e360_utc_now', 'e360')()) }}
{%- endmacro %}

{% macro default__e360_utc_now() -%}
    cast(({{ dbt.current_timestamp() }}) at time zone 'UTC' as timestamp)
{%- endmacro %}

{% macro duckdb__e360_utc_now() -%}
    cast(timezone('UTC', {{ dbt.current_timestamp() }}) as timestamp)
{%- endmacro %}

{% macro redshift__e360_utc_now() -%}
    {#- getdate() / sysdate are already naive UTC on Redshift -#}
    cast({{ dbt.current_timestamp() }} as timestamp)
{%- endmacro %}


{#-
  The "as of" instant for recency metrics: var `e360_as_of` ('YYYY-MM-DD HH:MM:SS') when set,
  else the run's instant (`E360_VALID_AT`), otherwise the warehouse clock (naive UTC).
-#}
{% macro e360_as_of_timestamp() -%}
    {%- set as_of = var('e360_as_of', '') or e360_run_instant() -%}
    {%- if as_of -%}
        cast('{{ as_of }}' as timestamp)
    {%- else -%}
        {{ e360_utc_now() }}
    {%- endif -%}
{%- endmacro %}
