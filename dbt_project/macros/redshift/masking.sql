{#-
  Redshift dynamic data masking for columns tagged `meta: {pii: true}`.

  Every published model and snapshot runs `e360_attach_masking_policies()` as a post-hook. On
  the redshift target it attaches, per PII column, the type's masking policy to PUBLIC and the
  pass-through policy to each privileged role (higher priority wins), skipping attachments
  that already exist (incremental models and snapshots keep their table between runs).
  On other targets it renders nothing.

  A PII column that cannot be masked - no declared data_type, or a type without a policy in
  var `e360_masking_policies` - fails the build: PII is never published unprotected.
-#}

{% macro e360_policy_type(data_type) -%}
    {%- set t = (data_type or '') | lower | trim -%}
    {%- if t.startswith('varchar') or t.startswith('character varying') or t in ('text', 'string') -%}
        {{ return('varchar') }}
    {%- elif t == 'date' -%}
        {{ return('date') }}
    {%- else -%}
        {{ return(t) }}
    {%- endif -%}
{%- endmacro %}


{#- The masking statements for one node (model or snapshot) at `relation`; a list of SQL. -#}
{% macro e360_masking_statements(node, relation, existing=[]) -%}
    {%- set policies = var('e360_masking_policies', {}) -%}
    {%- set statements = [] -%}
    {%- for column in (node.columns or {}).values() -%}
        {#- the node is a dict in `graph`, an object in a hook: attribute access suits both -#}
        {%- if (column.meta or {}).pii or ((column.config or {}).meta or {}).pii -%}
            {%- set policy_type = e360_policy_type(column.data_type) -%}
            {%- if policy_type not in policies -%}
                {{ exceptions.raise_compiler_error(
                    "PII column " ~ node.name ~ "." ~ column.name ~ " has no masking policy: "
                    ~ "declare its data_type and a policy for that type in var e360_masking_policies "
                    ~ "(type: '" ~ (column.data_type or 'none') ~ "')") }}
            {%- endif -%}
            {%- set policy = policies[policy_type] -%}
            {%- set quoted = adapter.quote(column.name) -%}
            {%- if (policy.mask, 'public', column.name) not in existing -%}
                {%- do statements.append(
                    "attach masking policy " ~ policy.mask ~ " on " ~ relation
                    ~ " (" ~ quoted ~ ") to public priority 10") -%}
            {%- endif -%}
            {%- for role in var('e360_privileged_roles', []) -%}
                {%- if (policy.unmask, role, column.name) not in existing -%}
                    {%- do statements.append(
                        "attach masking policy " ~ policy.unmask ~ " on " ~ relation
                        ~ " (" ~ quoted ~ ") to role " ~ adapter.quote(role) ~ " priority 100") -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements) }}
{%- endmacro %}


{#- (policy, grantee, column) already attached to `relation`, read from svv_attached_masking_policy. -#}
{% macro e360_existing_masking(relation) -%}
    {%- set existing = [] -%}
    {%- if execute -%}
        {%- set rows = run_query(
            "select policy_name, grantee, output_columns from svv_attached_masking_policy"
            ~ " where schema_name = '" ~ relation.schema ~ "' and table_name = '"
            ~ relation.identifier ~ "'") -%}
        {%- for row in rows -%}
            {%- for column in fromjson(row[2]) -%}
                {%- do existing.append((row[0], row[1], column)) -%}
            {%- endfor -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(existing) }}
{%- endmacro %}


{% macro e360_attach_masking_policies() -%}
    {%- if target.type == 'redshift' -%}
        {%- set statements = e360_masking_statements(model, this, e360_existing_masking(this)) -%}
        {{ statements | join(';\n') }}
    {%- endif -%}
{%- endmacro %}


{#-
  Every masking statement the project would issue on a fresh warehouse, one per line: what
  `dbt compile --target redshift --inline "{{ e360_masking_plan() }}"` prints for review and
  for the offline tests. Fails like the post-hook when a PII column cannot be masked.
-#}
{% macro e360_masking_plan() -%}
    {%- set lines = [] -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type in ('model', 'snapshot') and node.config.schema in var('e360_published_schemas', []) -%}
            {%- set relation = api.Relation.create(
                database=node.database, schema=node.schema, identifier=node.alias) -%}
            {%- for statement in e360_masking_statements(node, relation) -%}
                {%- do lines.append(statement ~ ';') -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(lines | join('\n')) }}
{%- endmacro %}
