"""The run's pinned master zone into the warehouse's lake schema, where dbt's sources read it.

Every target replaces the tables whole in one transaction and appends the load to the ledger
`<lake_schema>.loads` (one row per table: snapshot id, rows, run, time), after deleting what
the same run loaded before - so loading a run twice leaves the same warehouse as once.

- DuckDB: the Arrow tables are copied in directly.
- PostgreSQL: `COPY ... FROM STDIN (FORMAT csv)` of the Arrow table as CSV (psycopg2).
- Redshift: one Parquet object per table in S3, then `COPY ... FORMAT AS PARQUET` with the
  cluster's IAM role (see `redshift.py`).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import pyarrow as pa

from e360.config import E360Config
from e360.errors import PublishError
from e360.lake import Lake
from e360.sql import quote
from e360.warehouse import LAKE_TABLES, LOADS_TABLE
from e360.warehouse import redshift as rs
from e360.warehouse.arrow_sql import column_definitions, flatten_for_load, sql_type, to_csv
from e360.warehouse.targets import Connection, connect


@dataclass(frozen=True)
class LoadedTable:
    table: str
    lake_table: str
    snapshot_id: int | None
    rows: int


def read_pinned(
    lake: Lake, snapshots: Mapping[str, int | None] | None
) -> dict[str, tuple[pa.Table, LoadedTable]]:
    """Every lake table dbt reads, at the snapshot the publish gate approved."""
    pinned = snapshots or {}
    tables = {}
    for name, (zone, table) in LAKE_TABLES.items():
        snapshot_id = pinned.get(table)
        data = lake.read(zone, table, snapshot_id=snapshot_id)
        if data is None:
            raise PublishError(f"lake table {zone}.{table} does not exist: run `e360 match`")
        tables[name] = (data, LoadedTable(name, f"{zone}.{table}", snapshot_id, data.num_rows))
    return tables


def load_lake(
    config: E360Config,
    lake: Lake,
    snapshots: Mapping[str, int | None] | None,
    run_id: str,
) -> dict[str, int]:
    """Load the pinned master zone into the configured warehouse; returns rows per table."""
    tables = read_pinned(lake, snapshots)
    target = config.deployment.warehouse.target
    schema = config.deployment.warehouse.lake_schema
    if target == "redshift":
        staged = _stage_parquet(config, tables, run_id)
    con = connect(config)
    try:
        con.execute(f"create schema if not exists {quote(schema)}")
        for name, (data, _) in tables.items():
            if target == "duckdb":
                _load_duckdb(con, schema, name, data)
            elif target == "postgres":
                _load_postgres(con, schema, name, data)
            else:
                _load_redshift(config, con, schema, name, data, staged[name])
        _record_loads(con, schema, [loaded for _, loaded in tables.values()], run_id)
        if target == "redshift":
            for statement in rs.masking_policy_statements():
                con.execute(statement)
        con.commit()
    except Exception as exc:
        con.rollback()
        if isinstance(exc, PublishError):
            raise
        raise PublishError(f"loading the master zone into {target} failed: {exc}") from exc
    finally:
        con.close()
    return {name: loaded.rows for name, (_, loaded) in tables.items()}


def _load_duckdb(con: Connection, schema: str, name: str, data: pa.Table) -> None:
    raw = con.raw
    raw.register("incoming", data)
    try:
        raw.execute(
            f"create or replace table {quote(schema)}.{quote(name)} as select * from incoming"
        )
    finally:
        raw.unregister("incoming")


def _load_postgres(con: Connection, schema: str, name: str, data: pa.Table) -> None:
    flat = flatten_for_load(data)
    relation = f"{quote(schema)}.{quote(name)}"
    definition = ", ".join(
        f"{quote(column)} {kind}" for column, kind in column_definitions(flat, "postgres")
    )
    # cascade: dbt's staging views read these tables; the build recreates them next
    con.execute(f"drop table if exists {relation} cascade")
    con.execute(f"create table {relation} ({definition})")
    if flat.num_rows:
        with con.raw.cursor() as cursor:
            cursor.copy_expert(f"copy {relation} from stdin with (format csv)", to_csv(flat))


def _stage_parquet(
    config: E360Config, tables: Mapping[str, tuple[pa.Table, LoadedTable]], run_id: str
) -> dict[str, str]:
    """Write each table as Parquet under the S3 staging prefix; returns their URIs."""
    import boto3
    import pyarrow.parquet as pq

    settings = config.deployment.warehouse.redshift
    if not settings.s3_staging or not settings.iam_role_arn:
        raise PublishError(
            "deployment.warehouse.redshift: s3_staging and iam_role_arn are required to load "
            "the master zone with COPY"
        )
    s3 = boto3.client("s3", region_name=settings.region)
    uris = {}
    for name, (data, loaded) in tables.items():
        uri = rs.s3_object_uri(settings.s3_staging, run_id, name, loaded.snapshot_id)
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        buffer = io.BytesIO()
        pq.write_table(flatten_for_load(data), buffer)
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        uris[name] = uri
    return uris


def _load_redshift(
    config: E360Config, con: Connection, schema: str, name: str, data: pa.Table, uri: str
) -> None:
    settings = config.deployment.warehouse.redshift
    columns = column_definitions(flatten_for_load(data), "redshift")
    for statement in rs.copy_statements(
        schema, name, columns, uri, settings.iam_role_arn or "", settings.region
    ):
        con.execute(statement)


def _record_loads(con: Connection, schema: str, loads: list[LoadedTable], run_id: str) -> None:
    relation = f"{quote(schema)}.{quote(LOADS_TABLE)}"
    text = sql_type(pa.string(), con.target)
    con.execute(
        f"create table if not exists {relation} (table_name {text}, lake_table {text}, "
        f"snapshot_id bigint, row_count bigint, run_id {text}, loaded_at timestamp)"
    )
    con.execute(f"delete from {relation} where run_id = {rs.literal(run_id)}")
    loaded_at = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
    for load in loads:
        snapshot = "null" if load.snapshot_id is None else str(int(load.snapshot_id))
        con.execute(
            f"insert into {relation} values ({rs.literal(load.table)}, "
            f"{rs.literal(load.lake_table)}, {snapshot}, {int(load.rows)}, "
            f"{rs.literal(run_id)}, cast({rs.literal(loaded_at)} as timestamp))"
        )
