{#-
  Override of dbt.hash() for Redshift: the built-in casts its argument to `varchar`, which
  Redshift reads as varchar(256) and silently truncates longer inputs before hashing.
  (The root project is searched first when dbt dispatches its own `dbt` macros.)
-#}
{% macro redshift__hash(field) -%}
    md5(cast({{ field }} as varchar(65535)))
{%- endmacro %}
