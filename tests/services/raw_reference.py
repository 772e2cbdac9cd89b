"""The per-row read of the newest landed version of each key that the SQL in
`matching.standardize.raw` replaced, kept as the reference it is proven against."""

from __future__ import annotations

from typing import Any

from e360.config import SourceConfig
from e360.lake import Lake
from e360.zones import raw_table_name
from matching.standardize.raw import LANDING_ORDER, _as_text


def per_row_latest(lake: Lake, name: str, source: SourceConfig) -> list[dict[str, Any]]:
    """Python over every landed row: the last landed version of each key, in landing order."""
    raw = lake.read("raw", raw_table_name(name, source))
    if raw is None or raw.num_rows == 0:
        return []
    columns = set(raw.column_names)
    order = raw.sort_by([(c, "ascending") for c in LANDING_ORDER if c in columns])
    latest: dict[str, dict[str, Any]] = {}
    for row in order.to_pylist():
        row = {k: v if k.startswith("_") else _as_text(v) for k, v in row.items()}
        if row.get("_file") is None and "_topic" in row:
            row["_file"] = f"{row['_topic']}/{row.get('_partition')}"
            row["_row"] = row.get("_offset")
        key = (row.get(source.key) or "").strip()
        if key:
            row[source.key] = key
            latest.pop(key, None)  # re-insert: the result keeps landing order
            latest[key] = row
    return list(latest.values())
