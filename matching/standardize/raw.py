"""The newest landed version of every source key, as a relation of a dataflow.

A later file (or a later offset of a stream) may re-deliver a changed record; the last landed
version wins. Standardisation and event conformance both start here, so both see one version
of each key, in one order: landing order of the version kept.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from e360.config import SourceConfig
from e360.dataflow import Dataflow
from e360.lake import Lake
from e360.sql import quote
from e360.zones import raw_table_name

# Landing order: files by name and row; streams by partition and offset (a key always goes
# to one partition, so its versions keep their order).
LANDING_ORDER = ("_ingested_at", "_file", "_row", "_topic", "_partition", "_offset")
LANDING_SEQUENCE = "_landing_seq"


def register_latest_raw(
    flow: Dataflow, lake: Lake, name: str, source: SourceConfig, relation: str
) -> int:
    """Register `relation`: one row per non-empty source key, its newest landed version.

    Payload columns are text (stream payloads arrive typed; they are read as text, as file
    payloads are, so one standardisation serves both), the key is trimmed, stream records
    carry `_file` (topic/partition) and `_row` (offset) as lineage, and `_landing_seq` numbers
    the kept versions in landing order. Returns the number of rows.
    """
    raw = lake.read("raw", raw_table_name(name, source))
    if raw is None:
        raw = pa.table({source.key: pa.array([], pa.string())})
    landed = f"{relation}__landed"
    flow.register(landed, as_text_payload(raw, source.key))
    flow.create_table(relation, latest_versions_sql(landed, raw.column_names))
    flow.drop(landed)
    return int(flow.scalar(f"select count(*) from {quote(relation)}") or 0)


def latest_versions_sql(landed: str, columns: list[str]) -> str:
    """SQL: the newest row per key (`_key`) of relation `landed`, in landing order."""
    order = [c for c in LANDING_ORDER if c in columns]
    newest_first = ", ".join(f"{quote(c)} desc nulls first" for c in order) or "1"
    oldest_first = ", ".join(f"{quote(c)} nulls last" for c in order) or "1"
    lineage = ""
    if "_topic" in columns:
        file = "_file" if "_file" in columns else "cast(null as varchar)"
        row = "_row" if "_row" in columns else "cast(null as bigint)"
        lineage = (
            f", coalesce({file}, _topic || '/' || coalesce(cast(_partition as varchar), 'None'))"
            f" as _file, case when {file} is null then _offset else {row} end as _row"
        )
    replaced = [c for c in ("_file", "_row") if lineage and c in columns]
    keep = ", ".join(quote(c) for c in columns if c != "_key" and c not in replaced)
    return f"""
        select {keep}{lineage},
               row_number() over (order by {oldest_first}) as {LANDING_SEQUENCE}
        from (
            select *, row_number() over (partition by _key order by {newest_first}) as _version
            from {quote(landed)}
            where _key <> ''
        ) versions
        where _version = 1
    """


def as_text_payload(raw: pa.Table, key: str) -> pa.Table:
    """`raw` with payload columns as text and `_key`: the key, trimmed ('' when missing)."""
    columns = {}
    for field in raw.schema:
        column = raw.column(field.name)
        if not field.name.startswith("_"):
            column = _text_column(column)
        columns[field.name] = column
    trimmed = pc.utf8_trim_whitespace(columns[key])
    columns[key] = trimmed
    columns["_key"] = pc.fill_null(trimmed, "")
    return pa.table(columns)


def _text_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column.cast(pa.string())
    if pa.types.is_null(kind):
        return column.cast(pa.string())
    if pa.types.is_integer(kind) or pa.types.is_boolean(kind):
        return column.cast(pa.string())  # '12', 'true' / 'false': as str() would write them
    # Floats, dates, times and nested values: Python's own spelling, as before (typed stream
    # payloads only; file payloads are text already).
    return pa.chunked_array([pa.array([_as_text(v) for v in column.to_pylist()], pa.string())])


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)
