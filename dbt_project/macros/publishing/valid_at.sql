{#-
  The instant history rows become valid: var `e360_valid_at` ('YYYY-MM-DD HH:MM:SS', naive UTC;
  `e360 publish` passes the run's start so all of a run's changes share one timestamp),
  otherwise the warehouse clock.
-#}
{% macro e360_valid_at() -%}
    {%- set valid_at = var('e360_valid_at', '') -%}
    {%- if valid_at -%}
        cast('{{ valid_at }}' as timestamp)
    {%- else -%}
        {{ e360_utc_now() }}
    {%- endif -%}
{%- endmacro %}


{#-
  dbt snapshots stamp `dbt_valid_from` / `dbt_valid_to` with snapshot_get_time(); the root
  project is searched first when dbt dispatches it, so this wins on every adapter and history
  is stamped with the run's instant rather than the moment each snapshot happened to run.
-#}
{% macro default__snapshot_get_time() -%}
    {{ e360_valid_at() }}
{%- endmacro %}
