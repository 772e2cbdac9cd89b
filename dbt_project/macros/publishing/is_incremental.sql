{#-
  is_incremental() that also works offline: `dbt compile --no-introspect` (the Redshift
  check without a cluster) must not look the relation up, so it compiles the full build.
-#}
{% macro e360_is_incremental() -%}
    {%- if flags.INTROSPECT is defined and not flags.INTROSPECT -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(is_incremental()) }}
{%- endmacro %}
