"""Write-audit-publish of the layers dbt builds.

Write: dbt builds the published schemas (enterprise, history, the domain marts: dbt var
`e360_published_schemas`) as `<schema>__wap`. `prepare` first empties those and copies in the
relations that carry state between runs - incremental models and snapshots - so they continue
from what is published. Audit: every dbt test runs on the `__wap` build (contracts, keys,
relationships, row-count reconciliation with the loaded master zone). Publish: only when all
passed, `publish` swaps each `<schema>__wap` in for `<schema>` in one transaction. A failed
audit publishes nothing; the rejected build stays in `<schema>__wap` for inspection until the
next run (on DuckDB in the staging copy of the file, `staging`).

The swap per target: PostgreSQL and Redshift rename schemas (tables keep their grants,
comments and masking policies; readers see the old or the new layer, never a mix). DuckDB
cannot rename schemas, so the tables are copied, with their NOT NULL constraints and
comments, inside one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from e360.config import E360Config
from e360.errors import PublishError
from e360.sql import quote
from e360.warehouse import redshift as rs
from e360.warehouse.targets import Connection, connect

WAP_SUFFIX = "__wap"
PREVIOUS_SUFFIX = "__previous"


def published_schemas() -> list[str]:
    schemas = rs.project_vars().get("e360_published_schemas") or []
    return [str(schema) for schema in schemas]


def stateful_relations(manifest_path: Path) -> list[tuple[str, str]]:
    """(published schema, table) of the incremental models and snapshots in the manifest."""
    manifest = json.loads(manifest_path.read_text())
    published = set(published_schemas())
    relations = []
    for node in manifest["nodes"].values():
        stateful = node["resource_type"] == "snapshot" or (
            node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
        )
        if stateful and node["schema"] in published:
            relations.append((node["schema"], node.get("alias") or node["name"]))
    return sorted(relations)


def _exists(con: Connection, schema: str, table: str | None = None) -> bool:
    if table is None:
        sql = "select count(*) from information_schema.schemata where schema_name = "
        return con.query(sql + rs.literal(schema))[0][0] > 0
    sql = (
        "select count(*) from information_schema.tables where table_schema = "
        f"{rs.literal(schema)} and table_name = {rs.literal(table)}"
    )
    return con.query(sql)[0][0] > 0


def _copy_table(con: Connection, source: str, target: str, table: str) -> None:
    """`target.table` as a copy of `source.table`: definition, constraints, comments, rows."""
    src, dst = f"{quote(source)}.{quote(table)}", f"{quote(target)}.{quote(table)}"
    if con.target == "postgres":
        con.execute(f"create table {dst} (like {src} including all)")
    elif con.target == "redshift":
        con.execute(f"create table {dst} (like {src})")
    else:
        columns = con.query(
            "select column_name, data_type, is_nullable, comment from duckdb_columns() "
            f"where schema_name = {rs.literal(source)} and table_name = {rs.literal(table)} "
            "order by column_index"
        )
        definition = ", ".join(
            f"{quote(name)} {kind}{'' if nullable else ' not null'}"
            for name, kind, nullable, _ in columns
        )
        con.execute(f"create table {dst} ({definition})")
        (comment,) = con.query(
            "select comment from duckdb_tables() where schema_name = "
            f"{rs.literal(source)} and table_name = {rs.literal(table)}"
        )[0]
        if comment:
            con.execute(f"comment on table {dst} is {rs.literal(comment)}")
        for name, _, _, column_comment in columns:
            if column_comment:
                con.execute(
                    f"comment on column {dst}.{quote(name)} is {rs.literal(column_comment)}"
                )
    con.execute(f"insert into {dst} select * from {src}")


def prepare(config: E360Config, stateful: Sequence[tuple[str, str]]) -> list[str]:
    """Fresh `__wap` schemas holding copies of the published stateful relations."""
    con = connect(config)
    copied = []
    try:
        for schema in published_schemas():
            con.execute(f"drop schema if exists {quote(schema + WAP_SUFFIX)} cascade")
        for schema, table in stateful:
            if _exists(con, schema, table):
                con.execute(f"create schema if not exists {quote(schema + WAP_SUFFIX)}")
                _copy_table(con, schema, schema + WAP_SUFFIX, table)
                copied.append(f"{schema}.{table}")
        con.commit()
    except Exception as exc:
        con.rollback()
        raise PublishError(f"preparing the write-audit-publish schemas failed: {exc}") from exc
    finally:
        con.close()
    return copied


def _tables(con: Connection, schema: str) -> list[tuple[str, str]]:
    return [
        (name, kind)
        for name, kind in con.query(
            "select table_name, table_type from information_schema.tables "
            f"where table_schema = {rs.literal(schema)} order by table_name"
        )
    ]


def swap_statements(schema: str, target_exists: bool) -> list[str]:
    """Rename-swap of `<schema>__wap` into `<schema>` (PostgreSQL and Redshift)."""
    wap, previous = quote(schema + WAP_SUFFIX), quote(schema + PREVIOUS_SUFFIX)
    statements = [f"drop schema if exists {previous} cascade"]
    if target_exists:
        statements.append(f"alter schema {quote(schema)} rename to {previous}")
    statements.append(f"alter schema {wap} rename to {quote(schema)}")
    if target_exists:
        statements.append(f"drop schema {previous} cascade")
    return statements


def publish(config: E360Config, schemas: Iterable[str] | None = None) -> list[str]:
    """Swap every built `<schema>__wap` in for `<schema>`, all in one transaction."""
    con = connect(config)
    published = []
    try:
        for schema in schemas or published_schemas():
            if not _exists(con, schema + WAP_SUFFIX):
                continue
            if con.target == "duckdb":
                _publish_duckdb(con, schema)
            else:
                for statement in swap_statements(schema, _exists(con, schema)):
                    con.execute(statement)
            published.append(schema)
        if con.target == "redshift":
            rs_settings = config.deployment.warehouse.redshift
            roles = [*rs_settings.reader_roles, *rs_settings.steward_roles]
            for statement in rs.schema_grant_statements(published, roles):
                con.execute(statement)
        con.commit()
    except Exception as exc:
        con.rollback()
        raise PublishError(f"publishing failed, the previous layer is unchanged: {exc}") from exc
    finally:
        con.close()
    return published


def _publish_duckdb(con: Connection, schema: str) -> None:
    wap = schema + WAP_SUFFIX
    tables = _tables(con, wap)
    views = [name for name, kind in tables if kind != "BASE TABLE"]
    if views:
        # views would need their SQL rewritten to the new schema: published layers are tables
        raise PublishError(f"{wap}: views {views} cannot be published on duckdb; use tables")
    con.execute(f"drop schema if exists {quote(schema)} cascade")
    con.execute(f"create schema {quote(schema)}")
    for name, _ in tables:
        _copy_table(con, wap, schema, name)
    con.execute(f"drop schema {quote(wap)} cascade")
