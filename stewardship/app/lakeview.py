"""Read-only views of the master zone for the app, cached per Iceberg snapshot.

Every request asks the catalog for the tables' current snapshot ids (cheap) and rebuilds a
view only when a run has committed a new snapshot, so pages stay fast and never stale.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pyarrow as pa

from e360.entities import CANONICAL_ATTRIBUTES
from e360.lake import Lake, Zone
from e360.zones import display_column, master_table_name, standardized_table_name

T = TypeVar("T")

# How a record is named in lists: the first non-empty of these attributes.
LABEL_ATTRIBUTES = {
    "customer": ("full_name", "first_name", "last_name", "email"),
    "product": ("title", "model_number", "gtin", "sku"),
}


@dataclass(frozen=True)
class EntityView:
    """One consistent read of an entity's master zone and standardized records."""

    entity: str
    records: dict[str, dict[str, Any]]  # record_id -> standardized row
    masters: dict[str, str]  # record_id -> master_id
    members: dict[str, list[str]]  # master_id -> record ids
    golden: dict[str, dict[str, Any]]  # master_id -> golden row
    queue: list[dict[str, Any]]
    xref_run_id: str | None

    @property
    def attributes(self) -> tuple[str, ...]:
        return CANONICAL_ATTRIBUTES[self.entity]

    def label(self, record_id: str) -> str:
        row = self.records.get(record_id) or {}
        for attribute in LABEL_ATTRIBUTES.get(self.entity, ()):
            value = _shown(row, attribute)
            if value:
                last = _shown(row, "last_name")
                if attribute == "first_name" and last:
                    return f"{value} {last}"
                return str(value)
        return record_id


def _shown(row: dict[str, Any], attribute: str) -> Any:
    """An attribute as its source wrote it where the record keeps that, else standardised."""
    return row.get(display_column(attribute)) or row.get(attribute)


class LakeView:
    def __init__(self, lake: Lake) -> None:
        self.lake = lake
        self._cache: dict[tuple[Any, ...], tuple[tuple[int | None, ...], Any]] = {}
        self._lock = threading.Lock()

    def _cached(
        self, key: tuple[Any, ...], tables: list[tuple[Zone, str]], build: Callable[[], T]
    ) -> T:
        version = tuple(self.lake.current_snapshot_id(zone, name) for zone, name in tables)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None and hit[0] == version:
                return hit[1]
        value = build()
        with self._lock:
            self._cache[key] = (version, value)
        return value

    def read(self, zone: Zone, name: str) -> pa.Table | None:
        return self._cached(
            ("table", zone, name), [(zone, name)], lambda: self.lake.read(zone, name)
        )

    def entity(self, entity: str) -> EntityView:
        tables: list[tuple[Zone, str]] = [
            ("standardized", standardized_table_name(entity)),
            ("master", master_table_name(entity, "xref")),
            ("master", master_table_name(entity, "golden")),
            ("master", master_table_name(entity, "review_queue")),
        ]
        return self._cached(("entity", entity), tables, lambda: self._build(entity))

    def _build(self, entity: str) -> EntityView:
        records = _rows(self.lake.read("standardized", standardized_table_name(entity)))
        xref = _rows(self.lake.read("master", master_table_name(entity, "xref")))
        golden = _rows(self.lake.read("master", master_table_name(entity, "golden")))
        queue = _rows(self.lake.read("master", master_table_name(entity, "review_queue")))
        masters = {row["record_id"]: row["master_id"] for row in xref}
        members: dict[str, list[str]] = {}
        for record_id, master_id in sorted(masters.items()):
            members.setdefault(master_id, []).append(record_id)
        return EntityView(
            entity=entity,
            records={row["record_id"]: row for row in records},
            masters=masters,
            members=members,
            golden={row["master_id"]: row for row in golden},
            queue=queue,
            xref_run_id=xref[0]["run_id"] if xref else None,
        )

    def id_history(self, entity: str, master_id: str) -> list[dict[str, Any]]:
        history = self.read("master", master_table_name(entity, "id_history"))
        rows = [
            row
            for row in _rows(history)
            if row["master_id"] == master_id or row.get("related_master_id") == master_id
        ]
        return sorted(rows, key=lambda r: (r["occurred_at"], r["master_id"]))

    def pairs_of(self, entity: str, record_ids: set[str]) -> list[dict[str, Any]]:
        """Scored pairs touching any of these records."""
        pairs = self.read("master", master_table_name(entity, "pairs"))
        return [
            row
            for row in _rows(pairs)
            if row["record_id_l"] in record_ids or row["record_id_r"] in record_ids
        ]


def _rows(table: pa.Table | None) -> list[dict[str, Any]]:
    return [] if table is None else table.to_pylist()
