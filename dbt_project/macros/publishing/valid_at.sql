{#-
  The instant history rows become valid ('YYYY-MM-DD HH:MM:SS', naive UTC): var `e360_valid_at`,
  else the environment's `E360_VALID_AT` (`e360 publish` sets it to the run's instant, so all of
  a run's changes share one timestamp), otherwise the warehouse clock.
-#}
{% macro e360_valid_at() -%}
    {%- set valid_at = var('e360_valid_at', '') or e360_run_instant() -%}
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


{#-
  The run's instant from the environment, read only while executing: an environment variable
  dbt reads while parsing becomes part of the saved parse, and a new instant on every run would
  make dbt parse those files again each time.
-#}
{% macro e360_run_instant() -%}
    {{- return(env_var('E360_VALID_AT', '') if execute else '') -}}
{%- endmacro %}
