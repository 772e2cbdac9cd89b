"""The warehouse side of publishing: the master zone loaded where dbt reads it.

Embedded, the warehouse is a DuckDB file: the master and conformed tables are copied into the
configured lake schema (whole tables, replaced in one transaction, so a rerun loads the same
data once) and dbt-duckdb builds staging -> intermediate -> marts with its tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import duckdb

from e360.config import E360Config
from e360.errors import PublishError
from e360.lake import Lake, Zone

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

# warehouse table -> lake table: what dbt's `e360_lake` sources read
LAKE_TABLES: dict[str, tuple[Zone, str]] = {
    **{
        f"{entity}_{kind}": ("master", f"{entity}_{kind}")
        for entity in ("customer", "product")
        for kind in ("golden", "xref", "id_history", "review_queue")
    },
    "events": ("conformed", "events"),
}


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def check_loadable_target(config: E360Config) -> None:
    target = config.deployment.warehouse.target
    if target != "duckdb":
        raise PublishError(
            f"deployment.warehouse.target '{target}': only the embedded duckdb target is "
            "loaded by this release (the dbt project compiles for postgres and redshift)"
        )


def load_lake_into_duckdb(
    config: E360Config, lake: Lake, snapshots: Mapping[str, int | None] | None = None
) -> dict[str, int]:
    """Copy the lake tables dbt reads into the DuckDB file; returns rows per table.

    `snapshots` pins lake tables to the snapshot ids the publish gate approved.
    """
    check_loadable_target(config)
    path = config.warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = quote(config.deployment.warehouse.lake_schema)
    loaded: dict[str, int] = {}
    con = duckdb.connect(str(path))
    try:
        con.execute("begin transaction")
        con.execute(f"create schema if not exists {schema}")
        for name, (zone, table) in LAKE_TABLES.items():
            data = lake.read(zone, table, snapshot_id=(snapshots or {}).get(table))
            if data is None:
                raise PublishError(f"lake table {zone}.{table} does not exist: run `e360 match`")
            con.register("incoming", data)
            con.execute(f"create or replace table {schema}.{quote(name)} as select * from incoming")
            con.unregister("incoming")
            loaded[name] = data.num_rows
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.close()
    return loaded


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
