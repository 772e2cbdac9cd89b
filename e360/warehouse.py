"""Publishing: load the run's master zone into the warehouse, then build the dbt project.

Embedded, the warehouse is a DuckDB file: the master and conformed tables are copied into the
`lake_schema` schema (whole tables, replaced in one transaction, so a rerun loads the same
data once) and dbt-duckdb builds staging -> intermediate -> marts with its tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from e360.config import E360Config
from e360.errors import PublishError
from e360.lake import Lake, Zone

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"

# warehouse table -> lake table, per mastered entity plus conformed events
LAKE_TABLES: dict[str, tuple[Zone, str]] = {
    **{
        f"{entity}_{kind}": ("master", f"{entity}_{kind}")
        for entity in ("customer", "product")
        for kind in ("golden", "xref", "id_history", "review_queue")
    },
    "events": ("conformed", "events"),
}


@dataclass
class PublishSummary:
    target: str
    loaded: dict[str, int]
    dbt_success: bool
    models: int = 0
    tests_passed: int = 0
    tests_failed: int = 0
    failures: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def load_lake_into_duckdb(
    config: E360Config, lake: Lake, snapshots: Mapping[str, int | None] | None = None
) -> dict[str, int]:
    """Copy the lake tables dbt reads into the DuckDB file; returns rows per table."""
    path = config.warehouse_path
    path.parent.mkdir(parents=True, exist_ok=True)
    schema = config.deployment.warehouse.lake_schema
    loaded: dict[str, int] = {}
    con = duckdb.connect(str(path))
    try:
        con.execute("begin transaction")
        con.execute(f'create schema if not exists "{schema}"')
        for name, (zone, table) in LAKE_TABLES.items():
            data = lake.read(zone, table, snapshot_id=(snapshots or {}).get(table))
            if data is None:
                raise PublishError(f"lake table {zone}.{table} does not exist: run `e360 match`")
            con.register("incoming", data)
            con.execute(f'create or replace table "{schema}"."{name}" as select * from incoming')
            con.unregister("incoming")
            loaded[name] = data.num_rows
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    finally:
        con.close()
    return loaded


def run_dbt(config: E360Config, args: list[str], work_dir: Path) -> PublishSummary:
    """Run one dbt command in-process against the configured target."""
    from dbt.cli.main import dbtRunner

    target = config.deployment.warehouse.target
    work_dir.mkdir(parents=True, exist_ok=True)
    cli_args = [
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target",
        target,
        "--target-path",
        str(work_dir / "target"),
        "--log-path",
        str(work_dir / "logs"),
        "--quiet",
    ]
    with environment({"E360_DUCKDB_PATH": str(config.warehouse_path)}):
        result = dbtRunner().invoke(cli_args)
    summary = PublishSummary(target=target, loaded={}, dbt_success=bool(result.success))
    if result.exception is not None:
        raise PublishError(f"dbt {' '.join(args)} could not run: {result.exception}")
    for node_result in getattr(result.result, "results", None) or []:
        resource = node_result.node.resource_type
        status = str(node_result.status)
        if resource == "test":
            if status in ("pass", "warn"):
                summary.tests_passed += 1
            else:
                summary.tests_failed += 1
                summary.failures.append(f"{node_result.node.name}: {node_result.message}")
        elif resource in ("model", "snapshot", "seed"):
            summary.models += 1
            if status not in ("success", "pass"):
                summary.failures.append(f"{node_result.node.name}: {node_result.message}")
    return summary


def publish(
    config: E360Config,
    lake: Lake,
    work_dir: Path,
    snapshots: Mapping[str, int | None] | None = None,
) -> PublishSummary:
    target = config.deployment.warehouse.target
    if target != "duckdb":
        raise PublishError(
            f"deployment.warehouse.target '{target}': only the embedded duckdb target is "
            "published by this release"
        )
    loaded = load_lake_into_duckdb(config, lake, snapshots)
    summary = run_dbt(config, ["build"], work_dir)
    summary.loaded = loaded
    if not summary.dbt_success:
        details = "\n  ".join(summary.failures) or "see the dbt log in " + str(work_dir / "logs")
        raise PublishError(f"dbt build failed:\n  {details}")
    return summary


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
