"""The publish gate's referential integrity check, as SQL over the pinned lake tables.

Events and cross-references run to millions of rows: they are read as Arrow (only the columns
the check needs) and compared by DuckDB, never turned into Python rows.

A cross-reference lists each record once; should it list one twice, its last row counts (the
record's master as `matching.mastering.zone.record_masters` reads it). Events are named in the
order the lake returns them, so "first" means the same event on every run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa

from e360.lake import Lake, Zone
from e360.warehouse import LAKE_TABLES
from e360.zones import CONFORMED_EVENTS, master_table_name

ENTITIES = ("customer", "product")
ORDINAL = "_e360_ordinal"  # a row's position in the lake table as read


def _with_ordinal(table: pa.Table) -> pa.Table:
    return table.append_column(ORDINAL, pa.array(range(table.num_rows), pa.int64()))


def record_owner_sql(xref: str) -> str:
    """record_id -> master_id: each record's last row in `xref`."""
    return (
        f"select record_id, master_id from {xref} "
        f"qualify row_number() over (partition by record_id order by {ORDINAL} desc) = 1"
    )


def orphan_owners_sql(owner: str, golden: str) -> str:
    """How many records belong to a master id (null included) that has no golden record."""
    return (
        f"select count(*) from {owner} where not exists (select 1 from {golden} "
        f"where {golden}.master_id is not distinct from {owner}.master_id)"
    )


def misattributed_events_sql(events: str, owner: str, entity: str) -> str:
    """Events stamped with an entity master their reference's record does not belong to
    (a reference without a record counts): how many, and the first's position."""
    ref, stamped = f"{events}.{entity}_ref", f"{events}.{entity}_master_id"
    return (
        f"select count(*), min({events}.{ORDINAL}) from {events} "
        f"left join {owner} on {owner}.record_id is not distinct from {ref} "
        f"where {stamped} is not null and {owner}.master_id is distinct from {stamped}"
    )


def integrity_problems(lake: Lake, snapshots: Mapping[str, int | None]) -> list[str]:
    """What contradicts itself in the master zone at `snapshots` (lake table -> snapshot id):
    xrefs naming masters without a golden record, events stamped with a master their
    reference does not have. Empty when consistent."""
    missing = [f"{zone}.{table}" for zone, table in LAKE_TABLES.values()
               if not snapshots.get(table)]  # fmt: skip
    if missing:
        return [f"missing lake tables {missing}: run `e360 match` first"]
    columns = ["event_id"] + [f"{e}_{c}" for e in ENTITIES for c in ("ref", "master_id")]
    events = _read(lake, "conformed", CONFORMED_EVENTS, snapshots, tuple(columns))
    problems = []
    with duckdb.connect() as con:
        con.register("events", _with_ordinal(events))
        for entity in ENTITIES:
            xref_name = master_table_name(entity, "xref")
            golden_name = master_table_name(entity, "golden")
            xref = _read(lake, "master", xref_name, snapshots, ("record_id", "master_id"))
            golden = _read(lake, "master", golden_name, snapshots, ("master_id",))
            con.register(xref_name, _with_ordinal(xref))
            con.register(golden_name, golden)
            con.execute(f"create temp table owner as {record_owner_sql(xref_name)}")
            orphans = _scalar(con, orphan_owners_sql("owner", golden_name))
            if orphans:
                problems.append(f"{entity} xref points at masters without a golden record")
            wrong, first = _row(con, misattributed_events_sql("events", "owner", entity))
            if wrong:
                first_id = events.column("event_id")[first].as_py()
                problems.append(
                    f"{wrong} events carry a {entity} master id their "
                    f"reference does not have (first: {first_id})"
                )
            con.execute("drop table owner")
            con.unregister(xref_name)
            con.unregister(golden_name)
    return problems


def _read(
    lake: Lake,
    zone: Zone,
    table: str,
    snapshots: Mapping[str, int | None],
    columns: tuple[str, ...],
) -> pa.Table:
    data = lake.read(zone, table, columns=columns, snapshot_id=snapshots.get(table))
    assert data is not None  # every table has a snapshot (checked above)
    return data


def _row(con: duckdb.DuckDBPyConnection, sql: str) -> tuple[Any, ...]:
    row = con.execute(sql).fetchone()
    assert row is not None  # an aggregate returns one row
    return tuple(row)


def _scalar(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    return int(_row(con, sql)[0])
