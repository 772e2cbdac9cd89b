"""The SQL e360 issues on Amazon Redshift, generated here so it can be reviewed and tested
without a cluster.

Loading: the pinned snapshot of each master-zone table is written to S3 as one Parquet file
and loaded with `COPY ... FORMAT AS PARQUET` using the cluster's IAM role, the table dropped
and recreated in the same transaction (Redshift's TRUNCATE would commit on its own).

Masking: the policies the dbt post-hook attaches (`dbt_project/macros/redshift/masking.sql`)
are created here, before dbt runs; their names come from the dbt project's
`e360_masking_policies` var so both sides agree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache
from typing import Any

import yaml

from e360.errors import PublishError
from e360.resources import DBT_PROJECT_DIR
from e360.sql import quote

# The masked value per policy type, and the type the policy is declared on.
MASK_EXPRESSIONS: dict[str, tuple[str, str]] = {
    "varchar": ("varchar(65535)", "'***'::varchar(65535)"),
    "date": ("date", "null::date"),
}


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def s3_object_uri(staging: str, run_id: str, table: str, snapshot_id: int | None) -> str:
    """Where the loader writes one table's Parquet: keyed by run and snapshot, so a rerun of
    the same run overwrites the same object and loads the same rows."""
    if not staging.startswith("s3://"):
        raise PublishError(f"deployment.warehouse.redshift.s3_staging: '{staging}' is not s3://")
    return f"{staging.rstrip('/')}/{run_id}/{table}/{snapshot_id or 'empty'}.parquet"


def copy_statements(
    schema: str,
    table: str,
    columns: Sequence[tuple[str, str]],
    s3_uri: str,
    iam_role_arn: str,
    region: str | None = None,
) -> list[str]:
    """Replace `schema.table` with the Parquet object at `s3_uri` (run inside one transaction)."""
    if not iam_role_arn.startswith("arn:aws"):
        raise PublishError(
            f"deployment.warehouse.redshift.iam_role_arn: '{iam_role_arn}' is not an IAM role ARN"
        )
    relation = f"{quote(schema)}.{quote(table)}"
    definition = ", ".join(f"{quote(name)} {sql_type}" for name, sql_type in columns)
    copy = (
        f"copy {relation} from {literal(s3_uri)} iam_role {literal(iam_role_arn)} format as parquet"
    )
    if region:
        copy += f" region {literal(region)}"
    return [
        f"drop table if exists {relation} cascade",
        f"create table {relation} ({definition}) diststyle auto",
        copy,
    ]


@cache
def project_vars() -> Mapping[str, Any]:
    """The vars of the dbt project (one source of truth for names shared with Python): YAML
    values, checked where they are read."""
    data = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text())
    return data.get("vars", {})


def masking_policies() -> dict[str, dict[str, str]]:
    policies = project_vars().get("e360_masking_policies") or {}
    unknown = sorted(set(policies) - set(MASK_EXPRESSIONS))
    if unknown:
        raise PublishError(f"dbt var e360_masking_policies: no masked value for types {unknown}")
    return {kind: dict(names) for kind, names in policies.items()}


def masking_policy_statements() -> list[str]:
    """`create masking policy` for every type: a masking one (PUBLIC) and a pass-through one
    (the privileged roles). Idempotent: existing policies are left as they are."""
    statements = []
    for kind, names in masking_policies().items():
        column_type, masked = MASK_EXPRESSIONS[kind]
        statements.append(
            f"create masking policy if not exists {names['mask']} "
            f"with (val {column_type}) using ({masked})"
        )
        statements.append(
            f"create masking policy if not exists {names['unmask']} "
            f"with (val {column_type}) using (val)"
        )
    return statements


def schema_grant_statements(schemas: Iterable[str], roles: Iterable[str]) -> list[str]:
    """Usage on the published schemas: dbt grants select per table, the schema is ours (a
    swapped-in schema is a new object, so its usage grants are given again)."""
    return [
        f"grant usage on schema {quote(schema)} to role {quote(role)}"
        for schema in schemas
        for role in sorted(set(roles))
    ]
