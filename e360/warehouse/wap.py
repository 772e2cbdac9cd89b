"""Write-audit-publish of the layers dbt builds.

Write: dbt builds the published schemas (enterprise, history, the domain marts: dbt var
`e360_published_schemas`) as `<schema>__wap`. `prepare` first empties those and copies in the
relations that carry state between runs - incremental models and snapshots - so they continue
from what is published. Audit: every dbt test runs on the `__wap` build (contracts, keys,
relationships, row-count reconciliation with the loaded master zone). Publish: only when all
passed, `publish` swaps each `<schema>__wap` in for `<schema>` in one transaction. A failed
audit publishes nothing; the rejected build stays in `<schema>__wap` for inspection until the
next run. PostgreSQL and Redshift rename schemas (tables keep their grants, comments and
masking policies; readers see the old or the new layer, never a mix).

DuckDB builds in place (`builds_in_place`): a publish there already writes into a copy of the
warehouse file that replaces the published file only after the audit (`staging`), so the copy
is the write-audit-publish. dbt builds the published schemas under their own names in it, the
stateful relations are there already, and nothing is copied (DuckDB cannot rename schemas:
swapping meant copying every published table, 30 s of a million-customer publish).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from e360.config import E360Config
from e360.errors import PublishError
from e360.sql import quote
from e360.warehouse import redshift as rs
from e360.warehouse.targets import Connection, connect

WAP_SUFFIX = "__wap"
PREVIOUS_SUFFIX = "__previous"


def builds_in_place(config: E360Config) -> bool:
    """Whether dbt builds the published schemas themselves (in DuckDB's staging copy)."""
    return config.deployment.warehouse.target == "duckdb"


def build_suffix(config: E360Config) -> str:
    """What the published schemas are built under: `<schema>__wap`, or in place (empty)."""
    return "" if builds_in_place(config) else WAP_SUFFIX


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
    including = " including all" if con.target == "postgres" else ""
    con.execute(f"create table {dst} (like {src}{including})")
    con.execute(f"insert into {dst} select * from {src}")


def prepare(config: E360Config, stateful: Sequence[tuple[str, str]]) -> list[str]:
    """Fresh `__wap` schemas holding copies of the published stateful relations; built in
    place, the published schemas of the copy emptied of all but those (what a model no
    longer builds is not published again)."""
    copied = []
    with _transaction(config, "preparing the write-audit-publish schemas failed") as con:
        if builds_in_place(config):
            for schema in published_schemas():
                for name, kind in _tables(con, schema):
                    if (schema, name) not in stateful:
                        what = "table" if kind == "BASE TABLE" else "view"
                        con.execute(f"drop {what} if exists {quote(schema)}.{quote(name)} cascade")
            return []
        for schema in published_schemas():
            con.execute(f"drop schema if exists {quote(schema + WAP_SUFFIX)} cascade")
        for schema, table in stateful:
            if _exists(con, schema, table):
                con.execute(f"create schema if not exists {quote(schema + WAP_SUFFIX)}")
                _copy_table(con, schema, schema + WAP_SUFFIX, table)
                copied.append(f"{schema}.{table}")
    return copied


@contextmanager
def _transaction(config: E360Config, failure: str) -> Iterator[Connection]:
    """A connection to the warehouse whose work commits together, or not at all."""
    con = connect(config)
    try:
        yield con
        con.commit()
    except Exception as exc:
        con.rollback()
        raise PublishError(f"{failure}: {exc}") from exc
    finally:
        con.close()


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
    """Swap every built `<schema>__wap` in for `<schema>`, all in one transaction; built in
    place, the published schemas the build wrote (`staging.finish` publishes the file)."""
    published = []
    with _transaction(config, "publishing failed, the previous layer is unchanged") as con:
        for schema in schemas or published_schemas():
            if builds_in_place(config):
                if _exists(con, schema):
                    published.append(schema)
                continue
            if not _exists(con, schema + WAP_SUFFIX):
                continue
            for statement in swap_statements(schema, _exists(con, schema)):
                con.execute(statement)
            published.append(schema)
        if con.target == "redshift":
            rs_settings = config.deployment.warehouse.redshift
            roles = [*rs_settings.reader_roles, *rs_settings.steward_roles]
            for statement in rs.schema_grant_statements(published, roles):
                con.execute(statement)
    return published
