"""The standardized zone: one row per source record, canonical attributes, normalised once.

Reads `raw.<source>__<entity>`, keeps the latest version of each source key (a later file may
re-deliver a changed record), maps the source's columns onto canonical attributes and
standardises them. Matching, survivorship and events all read from here, never from raw.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pyarrow as pa

from e360.config import E360Config, SourceConfig
from e360.entities import record_id
from e360.lake import Lake
from e360.mappings import apply_mapping
from e360.zones import raw_table_name, standardized_schema, standardized_table_name
from matching.standardize.dates import timestamp
from matching.standardize.records import (
    complete_products,
    standardize_customer,
    standardize_product,
)


def latest_raw_records(lake: Lake, name: str, source: SourceConfig) -> list[dict[str, Any]]:
    """The newest landed version of every source key of one source, keys stripped.

    A later file (or a later offset of a stream) may re-deliver a changed record; the last
    landed version wins. Stream payloads arrive typed (their contract's types); they are
    handed on as text, as file payloads are, so one standardisation serves both.
    """
    raw = lake.read("raw", raw_table_name(name, source))
    if raw is None or raw.num_rows == 0:
        return []
    columns = set(raw.column_names)
    landing_order = [c for c in _LANDING_ORDER if c in columns]
    order = raw.sort_by([(c, "ascending") for c in landing_order])
    latest: dict[str, dict[str, Any]] = {}
    for row in order.to_pylist():
        row = {k: v if k.startswith("_") else _as_text(v) for k, v in row.items()}
        if row.get("_file") is None and "_topic" in row:
            # Where a stream record came from, in the terms events and lineage use.
            row["_file"] = f"{row['_topic']}/{row.get('_partition')}"
            row["_row"] = row.get("_offset")
        key = (row.get(source.key) or "").strip()
        if key:
            row[source.key] = key
            latest.pop(key, None)  # re-insert: the result keeps landing order
            latest[key] = row
    return list(latest.values())


# Landing order: files by name and row; streams by partition and offset (a key always goes
# to one partition, so its versions keep their order).
_LANDING_ORDER = ("_ingested_at", "_file", "_row", "_topic", "_partition", "_offset")


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


def standardize_records(
    name: str,
    source: SourceConfig,
    rows: list[dict[str, Any]],
    on_progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    standardize = _standardizer(source)
    out = []
    for i, row in enumerate(rows, start=1):
        canonical = apply_mapping(source.mapping, row)
        record = standardize(canonical)
        key = row[source.key]
        record["record_id"] = record_id(name, key)
        record["source"] = name
        record["source_key"] = key
        # No updated_at column: unknown, not "now" (which would win every recency rule).
        record["source_updated_at"] = (
            timestamp(row.get(source.updated_at)) if source.updated_at else None
        )
        record["_batch_id"] = row["_batch_id"]
        record["_ingested_at"] = row["_ingested_at"]
        out.append(record)
        if on_progress is not None and i % 5000 == 0:
            on_progress(5000)
    if on_progress is not None:
        on_progress(len(rows) % 5000)
    return out


def _standardizer(source: SourceConfig) -> Callable[[dict[str, Any]], dict[str, Any]]:
    if source.entity == "customer":
        return lambda record: standardize_customer(
            record, default_region=source.default_region, dayfirst=source.dayfirst
        )
    return standardize_product


def build_standardized(
    config: E360Config,
    lake: Lake,
    entity: str,
    on_progress: Callable[[int], None] | None = None,
) -> pa.Table:
    """Rebuild `standardized.<entity>` from every source of the entity; returns it."""
    records: list[dict[str, Any]] = []
    for name, source in config.sources_of(entity).items():
        rows = latest_raw_records(lake, name, source)
        records.extend(standardize_records(name, source, rows, on_progress))
    if entity == "product":
        complete_products(records)  # brands from titles, embeddings: batch-wide
    table = pa.Table.from_pylist(records, schema=standardized_schema(entity))
    lake.replace(
        "standardized",
        standardized_table_name(entity),
        table,
        description=f"Standardized {entity} records: one row per source record",
    )
    return table
