"""The run's pinned master zone into the warehouse's lake schema, where dbt's sources read it.

Every target replaces the tables whole in one transaction and appends the load to the ledger
`<lake_schema>.loads` (one row per table: snapshot id, rows, run, time), after deleting what
the same run loaded before - so loading a run twice leaves the same warehouse as once.

- DuckDB: the Arrow tables are scanned in directly (no Python rows).
- PostgreSQL: `COPY ... FROM STDIN (FORMAT csv)` of the Arrow table as CSV (psycopg2), in
  slices of `COPY_ROWS`.
- Redshift: one Parquet object per table in S3, then `COPY ... FORMAT AS PARQUET` with the
  cluster's IAM role (see `redshift.py`).
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
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

COPY_ROWS = 200_000  # rows per PostgreSQL COPY


@dataclass(frozen=True)
class LoadedTable:
    table: str
    lake_table: str
    snapshot_id: int | None
    rows: int


def read_pinned(
    lake: Lake, name: str, snapshots: Mapping[str, int | None] | None
) -> tuple[pa.Table, LoadedTable]:
    """One lake table dbt reads (`LAKE_TABLES` name), at the snapshot the publish gate approved."""
    zone, table = LAKE_TABLES[name]
    snapshot_id = (snapshots or {}).get(table)
    data = lake.read(zone, table, snapshot_id=snapshot_id)
    if data is None:
        raise PublishError(f"lake table {zone}.{table} does not exist: run `e360 match`")
    return data, LoadedTable(name, f"{zone}.{table}", snapshot_id, data.num_rows)


def load_lake(
    config: E360Config,
    lake: Lake,
    snapshots: Mapping[str, int | None] | None,
    run_id: str,
) -> dict[str, int]:
    """Load the pinned master zone into the configured warehouse; returns rows per table.

    One table at a time: only the table being loaded is held (as Arrow), never the zone."""
    target = config.deployment.warehouse.target
    schema = config.deployment.warehouse.lake_schema
    # Redshift: every object staged in S3 before the warehouse transaction opens
    staged = {}
    if target == "redshift":
        pinned = (read_pinned(lake, name, snapshots) for name in LAKE_TABLES)
        staged = _stage_parquet(config, pinned, run_id)
    loads: list[LoadedTable] = []
    con = connect(config)
    try:
        con.execute(f"create schema if not exists {quote(schema)}")
        for name in LAKE_TABLES:
            if target == "redshift":
                loaded, columns, uri = staged[name]
                _load_redshift(config, con, schema, name, columns, uri)
                loads.append(loaded)
                continue
            data, loaded = read_pinned(lake, name, snapshots)
            if target == "duckdb":
                _load_duckdb(con, schema, name, data)
            else:
                _load_postgres(con, schema, name, data)
            del data  # before the next table is read
            loads.append(loaded)
        _record_loads(con, schema, loads, run_id)
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
    return {loaded.table: loaded.rows for loaded in loads}


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
    with con.raw.cursor() as cursor:
        # one COPY per slice: the CSV text of one slice in memory, not of the whole table
        for batch in flat.to_batches(max_chunksize=COPY_ROWS):
            if batch.num_rows:
                chunk = pa.Table.from_batches([batch], schema=flat.schema)
                cursor.copy_expert(f"copy {relation} from stdin with (format csv)", to_csv(chunk))


def _stage_parquet(
    config: E360Config, tables: Iterable[tuple[pa.Table, LoadedTable]], run_id: str
) -> dict[str, tuple[LoadedTable, list[tuple[str, str]], str]]:
    """Write each table as Parquet under the S3 staging prefix, as `tables` yields them (one
    held at a time); returns per table what was staged, its Redshift columns and its URI."""
    import boto3
    import pyarrow.parquet as pq

    settings = config.deployment.warehouse.redshift
    if not settings.s3_staging or not settings.iam_role_arn:
        raise PublishError(
            "deployment.warehouse.redshift: s3_staging and iam_role_arn are required to load "
            "the master zone with COPY"
        )
    s3 = boto3.client("s3", region_name=settings.region)
    staged = {}
    for data, loaded in tables:
        uri = rs.s3_object_uri(settings.s3_staging, run_id, loaded.table, loaded.snapshot_id)
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        flat = flatten_for_load(data)
        buffer = io.BytesIO()
        pq.write_table(flat, buffer)
        s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        staged[loaded.table] = (loaded, column_definitions(flat, "redshift"), uri)
    return staged


def _load_redshift(
    config: E360Config,
    con: Connection,
    schema: str,
    name: str,
    columns: list[tuple[str, str]],
    uri: str,
) -> None:
    settings = config.deployment.warehouse.redshift
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
