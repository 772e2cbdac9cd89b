{#-
  Use the configured custom schema verbatim (`+schema: enterprise` -> `enterprise`) instead of
  dbt's default `<target_schema>_<custom_schema>`; models without a custom schema land in the
  target schema.

  Write-audit-publish: while `e360 publish` builds, var `e360_wap_suffix` is set (`__wap`) and
  the published schemas (var `e360_published_schemas`) are built as `<schema>__wap`; they are
  swapped in only after every test passed. Staging and intermediate views are internal and
  are always built in place.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema | trim }}
    {%- else -%}
        {%- set schema = custom_schema_name | trim -%}
        {%- set suffix = var('e360_wap_suffix', '') -%}
        {%- if suffix and schema in var('e360_published_schemas', []) -%}
            {{ schema ~ suffix }}
        {%- else -%}
            {{ schema }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
