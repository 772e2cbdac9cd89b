{#-
  md5 over a list of column expressions, null-safe and order-sensitive; used as an
  attribute fingerprint for change detection (e.g. in SCD snapshots downstream).
  Non-string expressions are cast to text; string columns are passed through uncast so
  Redshift does not truncate them to varchar(256).
  `added_columns`: string columns added after rows were first hashed; they join the hash only
  when set, so adding one does not change the fingerprint (and history) of every row.
-#}
{% macro e360_row_hash(string_columns=[], other_columns=[], added_columns=[]) -%}
    {%- set parts = [] -%}
    {%- for col in string_columns -%}
        {%- do parts.append("coalesce(" ~ col ~ ", '')") -%}
    {%- endfor -%}
    {%- for col in other_columns -%}
        {%- do parts.append("coalesce(cast(" ~ col ~ " as " ~ dbt.type_string() ~ "), '')") -%}
    {%- endfor -%}
    {%- set fields = [] -%}
    {%- for part in parts -%}
        {%- do fields.append(part) -%}
        {%- if not loop.last -%}{%- do fields.append("'|'") -%}{%- endif -%}
    {%- endfor -%}
    {%- for col in added_columns -%}
        {%- do fields.append("coalesce('|' || " ~ col ~ ", '')") -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(fields)) }}
{%- endmacro %}
