"""The publish gate's integrity check in SQL (`e360.warehouse.gate`) says exactly what the
per-row Python check it replaced said, on consistent and on broken master zones: nulls,
references without records, re-delivered record ids, unicode, empty tables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pytest

from e360.lake import Lake
from e360.warehouse import LAKE_TABLES
from e360.warehouse.gate import integrity_problems

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("customer_ref", pa.string()),
        ("customer_master_id", pa.string()),
        ("product_ref", pa.string()),
        ("product_master_id", pa.string()),
    ]
)
XREF_SCHEMA = pa.schema([("record_id", pa.string()), ("master_id", pa.string())])
GOLDEN_SCHEMA = pa.schema([("master_id", pa.string()), ("name", pa.string())])
OTHER_SCHEMA = pa.schema([("master_id", pa.string())])


def old_integrity_problems(lake: Lake) -> list[str]:
    """The check as it was: every event and xref row as a Python object (kept as the oracle)."""
    missing = [f"{zone}.{table}" for zone, table in LAKE_TABLES.values()
               if not lake.current_snapshot_id(zone, table)]  # fmt: skip
    if missing:
        return [f"missing lake tables {missing}: run `e360 match` first"]
    problems = []
    events = lake.read("conformed", "events").to_pylist()  # type: ignore[union-attr]
    for entity in ("customer", "product"):
        golden = lake.read("master", f"{entity}_golden", columns=("master_id",))
        masters = set(golden.column("master_id").to_pylist())  # type: ignore[union-attr]
        xref = lake.read("master", f"{entity}_xref", columns=("record_id", "master_id"))
        owner = dict(
            zip(
                xref.column("record_id").to_pylist(),  # type: ignore[union-attr]
                xref.column("master_id").to_pylist(),  # type: ignore[union-attr]
                strict=True,
            )
        )
        if set(owner.values()) - masters:
            problems.append(f"{entity} xref points at masters without a golden record")
        wrong = [
            e["event_id"]
            for e in events
            if e[f"{entity}_master_id"] is not None
            and owner.get(e[f"{entity}_ref"]) != e[f"{entity}_master_id"]
        ]
        if wrong:
            problems.append(
                f"{len(wrong)} events carry a {entity} master id their "
                f"reference does not have (first: {wrong[0]})"
            )
    return problems


def _event(
    event_id: str | None,
    customer: tuple[str | None, str | None] = (None, None),
    product: tuple[str | None, str | None] = (None, None),
) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "event_type": "purchase",
        "customer_ref": customer[0],
        "customer_master_id": customer[1],
        "product_ref": product[0],
        "product_master_id": product[1],
    }


def _zone(
    lake: Lake,
    events: list[dict[str, Any]],
    xrefs: Mapping[str, Sequence[tuple[str | None, str | None]]],
    golden: Mapping[str, Sequence[str | None]],
    skip: str | None = None,
) -> None:
    def write(zone: Any, name: str, rows: list[dict[str, Any]], schema: pa.Schema) -> None:
        if name != skip:
            lake.replace(zone, name, pa.Table.from_pylist(rows, schema))

    write("conformed", "events", events, EVENT_SCHEMA)
    for entity in ("customer", "product"):
        pairs = xrefs.get(entity, [])
        write("master", f"{entity}_xref", [dict(zip(XREF_SCHEMA.names, p, strict=True)) for p in pairs],
              XREF_SCHEMA)  # fmt: skip
        masters = [{"master_id": m, "name": "Zoë"} for m in golden.get(entity, [])]
        write("master", f"{entity}_golden", masters, GOLDEN_SCHEMA)
        for table in ("id_history", "review_queue"):
            write("master", f"{entity}_{table}", [{"master_id": "x"}], OTHER_SCHEMA)


def _both(lake: Lake) -> list[str]:
    snapshots = {
        table: lake.current_snapshot_id(zone, table) for zone, table in LAKE_TABLES.values()
    }
    new, old = integrity_problems(lake, snapshots), old_integrity_problems(lake)
    assert new == old
    return new


CONSISTENT_XREFS = {
    "customer": [("crm:1", "CUS-1"), ("crm:2", "CUS-1"), ("web:é", "CUS-2")],
    "product": [("erp:1", "PRD-1")],
}
CONSISTENT_GOLDEN = {"customer": ["CUS-1", "CUS-2"], "product": ["PRD-1"]}


def test_a_consistent_zone_has_no_problems(lake: Lake) -> None:
    events = [
        _event("e1", ("crm:1", "CUS-1"), ("erp:1", "PRD-1")),
        _event("e2", ("web:é", "CUS-2")),
        _event("e3", ("unknown", None), ("erp:1", None)),  # not stamped: nothing to check
        _event(None),
    ]
    _zone(lake, events, CONSISTENT_XREFS, CONSISTENT_GOLDEN)
    assert _both(lake) == []


def test_empty_tables_are_consistent(lake: Lake) -> None:
    _zone(lake, [], {}, {})
    assert _both(lake) == []


def test_a_missing_table_is_named(lake: Lake) -> None:
    _zone(lake, [], {}, {}, skip="product_review_queue")
    assert _both(lake) == [
        "missing lake tables ['master.product_review_queue']: run `e360 match` first"
    ]


def test_events_stamped_with_a_master_their_reference_lacks(lake: Lake) -> None:
    events = [
        _event("e1", ("crm:1", "CUS-1")),
        _event("e2", ("crm:1", "CUS-2"), ("erp:1", "PRD-9")),  # wrong customer and product
        _event("e3", ("nobody", "CUS-1")),  # a reference without a record
        _event(None, (None, "CUS-1")),  # no reference at all, no event id
        _event("ë4", ("web:é", "CUS-1")),
    ]
    _zone(lake, events, CONSISTENT_XREFS, CONSISTENT_GOLDEN)
    assert _both(lake) == [
        "4 events carry a customer master id their reference does not have (first: e2)",
        "1 events carry a product master id their reference does not have (first: e2)",
    ]


def test_the_first_wrong_event_is_named_even_without_an_id(lake: Lake) -> None:
    events = [_event(None, ("crm:1", "CUS-2")), _event("e2", ("crm:1", "CUS-2"))]
    _zone(lake, events, CONSISTENT_XREFS, CONSISTENT_GOLDEN)
    assert "(first: None)" in _both(lake)[0]


@pytest.mark.parametrize(
    "xref",
    [
        [("crm:1", "CUS-1"), ("crm:2", "CUS-404")],  # a master without a golden record
        [("crm:1", "CUS-1"), ("crm:2", None)],  # a record without a master
        [(None, "CUS-404")],  # no record id
    ],
)
def test_xrefs_naming_masters_without_a_golden_record(
    lake: Lake, xref: list[tuple[str | None, str | None]]
) -> None:
    _zone(lake, [_event("e1", ("crm:1", "CUS-1"))], {"customer": xref}, CONSISTENT_GOLDEN)
    assert _both(lake)[0] == "customer xref points at masters without a golden record"


def test_a_redelivered_record_counts_with_its_last_row(lake: Lake) -> None:
    # crm:1 is listed twice: its last row (CUS-2) is its master, for events and for orphans
    xrefs = {"customer": [("crm:1", "CUS-404"), ("web:é", "CUS-2"), ("crm:1", "CUS-2")]}
    events = [_event("e1", ("crm:1", "CUS-1")), _event("e2", ("crm:1", "CUS-2"))]
    _zone(lake, events, xrefs, CONSISTENT_GOLDEN)
    assert _both(lake) == [
        "1 events carry a customer master id their reference does not have (first: e1)"
    ]


def test_a_null_golden_master_matches_a_null_xref_master(lake: Lake) -> None:
    # the Python sets compared None with None; the SQL must too
    _zone(lake, [], {"customer": [("crm:1", None)]}, {"customer": [None, "CUS-1"]})
    assert _both(lake) == []


def test_the_gate_reads_the_pinned_snapshots(lake: Lake) -> None:
    events = [_event("e1", ("crm:1", "CUS-2"))]
    _zone(lake, events, CONSISTENT_XREFS, CONSISTENT_GOLDEN)
    snapshots = {
        table: lake.current_snapshot_id(zone, table) for zone, table in LAKE_TABLES.values()
    }
    # a later (consistent) delivery does not change what the pinned snapshots say
    lake.replace("conformed", "events", pa.Table.from_pylist([_event("e1")], EVENT_SCHEMA))
    assert integrity_problems(lake, snapshots) == [
        "1 events carry a customer master id their reference does not have (first: e1)"
    ]
