{#-
  What a staging model shows for golden attributes that have a display value: the value as
  the winning source record wrote it (`<attribute>_display`, see e360.zones.DISPLAY_ATTRIBUTES),
  else the standardised (matching) form. Returns attribute -> SQL expression.

  A master zone written before display values existed has no `<attribute>_display` columns:
  its attributes show their standardised values and the build keeps working. Offline
  (parsing, `dbt compile --no-introspect`) nothing can be looked up: the current schema is
  assumed.
-#}
{% macro e360_display_values(relation, attributes) -%}
    {%- set offline = not execute or (flags.INTROSPECT is defined and not flags.INTROSPECT) -%}
    {%- set present = [] -%}
    {%- if not offline -%}
        {%- set present = adapter.get_columns_in_relation(relation)
            | map(attribute='name') | map('lower') | list -%}
    {%- endif -%}
    {%- set values = {} -%}
    {%- for attribute in attributes -%}
        {%- set display = attribute ~ '_display' -%}
        {%- if offline or display in present -%}
            {%- do values.update({attribute: 'coalesce(' ~ display ~ ', ' ~ attribute ~ ')'}) -%}
        {%- else -%}
            {%- do values.update({attribute: attribute}) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(values) }}
{%- endmacro %}
