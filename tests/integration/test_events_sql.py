"""Event conformance as SQL gives, row for row, what the per-row Python gave.

The per-row implementation it replaced is kept below as the reference (`reference_*`),
unchanged but for names: every latest raw row walked as a dict, master ids looked up in
dicts. Both run on the demo data after ingest, standardize and match, and on edge cases
(bad timestamps and numbers, unknown types, references unresolved on either side, prefixes,
several customer sources, empty sources); their `conformed.events`, `conformed.event_rejects`
and counts must be identical, in order.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from services.raw_reference import per_row_latest

from demo import generate_demo_data
from e360.config import E360Config, EngineSettings, EventReference, SourceConfig, load_config
from e360.entities import record_id
from e360.lake import Lake
from e360.mappings import apply_mapping
from e360.zones import CONFORMED_EVENT_REJECTS, CONFORMED_EVENTS
from matching.mastering.events import (
    EVENT_SCHEMA,
    REJECT_SCHEMA,
    EventCounts,
    build_conformed_events,
    conform_events,
    masters_table,
)
from matching.mastering.zone import masters_by_record, record_masters
from matching.standardize import currency, price, timestamp
from orchestration.runner import run_pipeline

# --- the reference: the per-row implementation this module's SQL replaced -----------------


@dataclass(frozen=True)
class Resolution:
    """References of a batch of events resolved, position by position."""

    record_ids: list[str | None]
    """`<source>:<key>`, null for an empty reference or one naming no configured source."""
    master_ids: list[str | None]
    problems: dict[int, str]
    """Position -> why a non-empty reference resolves to no record."""


def reference_conform_event(
    name: str, source: SourceConfig, row: Mapping[str, Any]
) -> tuple[dict[str, Any] | None, str | None]:
    """One source row -> (conformed event, None) or (None, reason).

    Its references are left as the row gave them (the key, trimmed, or null); `conform_events`
    resolves a whole source's references at once.
    """
    assert source.event is not None
    mapped = apply_mapping(source.mapping, row)
    settings = source.event
    event_type: str | None
    if settings.type is not None:
        event_type = settings.type
    else:
        raw_type = (row.get(settings.type_column or "") or "").strip()
        event_type = settings.type_map.get(raw_type)
        if event_type is None:
            return None, f"event type '{raw_type}' is not in sources.{name}.event.type_map"
    occurred_at = timestamp(mapped.get("occurred_at"))
    if occurred_at is None:
        return None, f"occurred_at '{mapped.get('occurred_at')}' is not a timestamp"
    return {
        "event_id": record_id(name, row[source.key]),
        "event_type": event_type,
        "occurred_at": occurred_at,
        "source": name,
        "channel": mapped.get("channel") or settings.channel,
        "customer_ref": _text(mapped.get("customer_ref")),
        "product_ref": _text(mapped.get("product_ref")),
        "customer_master_id": None,
        "product_master_id": None,
        "quantity": _quantity(mapped.get("quantity")),
        "amount": _amount(mapped.get("amount")),
        "currency": currency(mapped.get("currency")),
    }, None


def reference_resolve_references(
    reference: EventReference,
    keys: Sequence[str | None],
    systems: Sequence[str | None] | None,
    masters: Mapping[str, str],
) -> Resolution:
    """Resolve a batch of references of one entity to records and their masters.

    `keys`: the references as rows gave them; `systems`: the values of the reference's source
    column (when it has one). Sources are chosen column-wise with Arrow; only references that
    resolve to no record are looked at one by one, to say why.
    """
    key = pc.utf8_trim_whitespace(pa.array(keys, pa.string()))
    key = pc.if_else(pc.equal(key, ""), pa.scalar(None, pa.string()), key)
    source = _sources(reference, key, systems)
    if reference.strip_prefix:
        key = _strip_prefixes(key, reference.key_prefixes)
    ids = pc.binary_join_element_wise(source, key, ":")
    record_ids = ids.to_pylist()
    master_ids = [masters.get(r) if r is not None else None for r in record_ids]
    given = pc.is_valid(key).to_pylist()
    problems = {
        i: _unresolved(reference, keys[i], systems[i] if systems is not None else None, rid)
        for i, (rid, master, present) in enumerate(zip(record_ids, master_ids, given, strict=True))
        if master is None and present
    }
    return Resolution(record_ids, master_ids, problems)


def _sources(
    reference: EventReference, key: pa.Array, systems: Sequence[str | None] | None
) -> pa.Array:
    """The source each reference points into, null where the row names none configured."""
    known = pa.array(reference.sources, pa.string())
    if reference.key_prefixes:
        source = pa.nulls(len(key), pa.string())
        for prefix, name in reference.key_prefixes.items():  # they never overlap (checks.py)
            hit = pc.fill_null(pc.starts_with(key, prefix), False)
            source = pc.if_else(hit, pa.scalar(name), source)
        return source
    if reference.source_column is not None:
        system = pc.utf8_trim_whitespace(pa.array(systems or [None] * len(key), pa.string()))
        values = pa.array(list(reference.source_map), pa.string())
        named = pa.array(list(reference.source_map.values()), pa.string())
        source = pc.coalesce(pc.take(named, pc.index_in(system, value_set=values)), system)
        return pc.if_else(pc.is_in(source, value_set=known), source, None)
    return pa.repeat(pa.scalar(reference.sources[0]), len(key))


def _strip_prefixes(key: pa.Array, prefixes: Mapping[str, str]) -> pa.Array:
    stripped = key
    for prefix in prefixes:
        hit = pc.fill_null(pc.starts_with(key, prefix), False)  # the key as given, not stripped
        stripped = pc.if_else(hit, pc.utf8_slice_codeunits(key, len(prefix)), stripped)
    return stripped


def _unresolved(
    reference: EventReference, key: str | None, system: str | None, resolved: str | None
) -> str:
    """Why a non-empty reference names no record, naming the reference and the sources tried."""
    ref = f"{reference.entity}_ref '{str(key).strip()}'"
    sources = ", ".join(reference.sources)
    if resolved is not None:
        source = resolved.split(":", 1)[0]
        return (
            f"{ref}: no {source} record {resolved} (not landed, quarantined, or not mastered yet); "
            f"{reference.entity} sources: {sources}"
        )
    if reference.key_prefixes:
        prefixes = ", ".join(f"'{p}' ({s})" for p, s in reference.key_prefixes.items())
        return f"{ref} starts with none of the key prefixes {prefixes}"
    value = (system or "").strip()
    named = f"'{value}'" if value else "nothing"
    column = reference.source_column
    return f"{ref}: {column} names {named}, none of the {reference.entity} sources {sources}"


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None


def _quantity(value: Any) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):  # "1e400", "inf": not a quantity
        return None


def _amount(value: Any) -> float | None:
    """Signed: refunds and cancellations carry negative amounts."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return price(value)  # "£12.99" and other formatted prices
    return amount if math.isfinite(amount) else None


def reference_conform_events(
    name: str,
    source: SourceConfig,
    rows: Sequence[Mapping[str, Any]],
    customer_masters: Mapping[str, str],
    product_masters: Mapping[str, str],
    run_id: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], EventCounts]:
    """One event source's rows -> (events, rejects, counts): each row conforms or is rejected
    with its reasons; an event whose reference names no record is rejected, not conformed with
    a null master id."""
    assert source.event is not None
    events: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    kept: list[Mapping[str, Any]] = []

    def reject(row: Mapping[str, Any], reason: str) -> None:
        rejects.append(
            {
                "source": name,
                "source_key": row[source.key],
                "_file": row["_file"],
                "_row": row["_row"],
                "reason": reason,
                "run_id": run_id,
            }
        )

    for row in rows:
        event, reason = reference_conform_event(name, source, row)
        if event is None:
            reject(row, reason or "not conformed")
            continue
        event["run_id"] = run_id
        events.append(event)
        kept.append(row)
    problems: dict[int, list[str]] = {}
    unresolved: dict[str, int] = {}
    entities: tuple[tuple[Literal["customer", "product"], Mapping[str, str]], ...] = (
        ("customer", customer_masters),
        ("product", product_masters),
    )
    for entity, masters in entities:
        reference = source.event.reference(entity)
        keys = [e[f"{entity}_ref"] for e in events]
        if not reference.sources:
            for event in events:  # the source takes no such references (checks.py)
                event[f"{entity}_ref"] = None
            unresolved[entity] = 0
            continue
        column = reference.source_column
        systems = [row.get(column) for row in kept] if column is not None else None
        resolution = reference_resolve_references(reference, keys, systems, masters)
        for event, rid, master in zip(
            events, resolution.record_ids, resolution.master_ids, strict=True
        ):
            event[f"{entity}_ref"], event[f"{entity}_master_id"] = rid, master
        for i, problem in resolution.problems.items():
            problems.setdefault(i, []).append(problem)
        unresolved[entity] = len(resolution.problems)
    for i in sorted(problems):
        reject(kept[i], "; ".join(problems[i]))
    events = [e for i, e in enumerate(events) if i not in problems]
    counts = EventCounts(
        name,
        len(rows),
        len(events),
        len(rows) - len(events),
        sum(e["customer_master_id"] is not None for e in events),
        sum(e["product_master_id"] is not None for e in events),
        unresolved["customer"],
        unresolved["product"],
    )
    return events, rejects, counts


def reference_build(
    config: E360Config,
    lake: Lake,
    customer_masters: Mapping[str, str],
    product_masters: Mapping[str, str],
    run_id: str,
) -> tuple[pa.Table, pa.Table, list[EventCounts]]:
    events: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    counts = []
    for name, source in config.sources_of("event").items():
        rows = per_row_latest(lake, name, source)
        conformed, rejected, count = reference_conform_events(
            name, source, rows, customer_masters, product_masters, run_id
        )
        events.extend(conformed)
        rejects.extend(rejected)
        counts.append(count)
    return (
        pa.Table.from_pylist(events, schema=EVENT_SCHEMA),
        pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA),
        counts,
    )


# --- equivalence -------------------------------------------------------------------------


def assert_same_conformance(
    config: E360Config,
    lake: Lake,
    customers: Mapping[str, str],
    products: Mapping[str, str],
) -> list[EventCounts]:
    """Both implementations over the lake's raw zone: identical tables, in order, and counts."""
    expected_events, expected_rejects, expected_counts = reference_build(
        config, lake, customers, products, "run-1"
    )
    counts = build_conformed_events(
        config, lake, masters_table(customers), masters_table(products), "run-1"
    )
    events = lake.read("conformed", CONFORMED_EVENTS)
    rejects = lake.read("conformed", CONFORMED_EVENT_REJECTS)
    assert events is not None and rejects is not None
    assert events.schema.names == EVENT_SCHEMA.names and rejects.schema.names == REJECT_SCHEMA.names
    assert rejects.to_pylist() == expected_rejects.to_pylist()
    assert events.to_pylist() == expected_events.to_pylist()
    assert [asdict(c) for c in counts] == [asdict(c) for c in expected_counts]
    return counts


@pytest.fixture(scope="module")
def demo_lake(
    tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path
) -> tuple[E360Config, Lake]:
    root = tmp_path_factory.mktemp("events-demo")
    config = load_config(demo_config_path, overrides={"project.root": str(root)}, environ={})
    generate_demo_data(root, customers=400, seed=17)
    run_pipeline(config, ["ingest", "standardize", "match"])
    return config, Lake.from_config(config)


def test_the_demo_events_conform_alike(demo_lake: tuple[E360Config, Lake]) -> None:
    config, lake = demo_lake
    customers, products = (
        masters_by_record(record_masters(lake, e)) for e in ("customer", "product")
    )
    counts = assert_same_conformance(config, lake, customers, products)
    assert sum(c.conformed for c in counts) > 1000
    assert all(c.with_customer_master and c.with_product_master for c in counts)


def test_the_demo_events_reject_alike_when_masters_are_missing(
    demo_lake: tuple[E360Config, Lake],
) -> None:
    config, lake = demo_lake
    customers, products = (
        masters_by_record(record_masters(lake, e)) for e in ("customer", "product")
    )
    # Every third customer record and every other product not mastered yet: unresolved
    # references on either side, and on both at once.
    customers = dict(list(customers.items())[::3])
    products = dict(list(products.items())[::2])
    counts = assert_same_conformance(config, lake, customers, products)
    assert all(c.unresolved_customer and c.unresolved_product for c in counts)
    counts = assert_same_conformance(config, lake, {}, {})
    assert all(c.rejected == c.records for c in counts)


# --- edge cases ----------------------------------------------------------------------------

TIMESTAMPS = [
    "2024-05-01T12:30:00Z", "2024-05-01 12:30:00", "2024-05-01", " 2024-05-01T12:30:00.5 ",
    "2024-05-01T12:30:00.1234567", "2024-05-01T12:30:00+02:00", "2024-02-30T10:00:00",
    "2023-02-29", "2024-02-29T23:59:59", "2024-01-01T24:00:00", "2024-01-01T10:00:60",
    "01/02/2024", "1 March 2024", "yesterday", "", "0000-01-01", "1899-12-31T10:00:00",
    "2024-05-01T12:30", "20240501", "2024-05-01t12:30:00", "2024-05-01T12:30:00z",
    "2099-12-31T23:59:59.999999", "\u20072024-05-01\u3000", "2024-05-01T12:30:00,5",
]  # fmt: skip
TYPES = ["PLACED", " CANCELLED ", "REFUNDED", "", "placed", "it's", "PLACED\u00a0"]
QUANTITIES = [
    "2", " 3 ", "2.9", "-2.9", "1e3", "1e400", "inf", "nan", "1_000", "\uff11\uff12", "", " ", "abc",
    "1e20", "9223372036854775807", "-0", ".5", "5.", "+4", "0x10", "1e", "-9e18",
]  # fmt: skip
AMOUNTS = [
    "19.98", "-19.98", "£12.99", "12,50 €", "1e400", "inf", "-inf", "nan", "", "1_000.5",
    "abc", " 7 ", "1.299,99", "-£5", "0.1", "1e-320", "+.5",
]  # fmt: skip
CURRENCIES = ["GBP", "£", "eur", "", "xx", "€12", "US$", " usd "]
CHANNELS = ["", " ", "app", "web"]
CUSTOMERS = [  # (system, key): resolved, through the map, unknown system, none, anonymous ...
    ("CRM-A", "1"), ("shop", " 2 "), ("FOO", "3"), ("", "4"), ("", ""), ("shop", "9"),
    (" crm ", "5"), ("crm", "Zoë"), ("CRM-A", "it's"), ("shop", "\u00a0"), ("crm", "crm:1"),
]  # fmt: skip
PRODUCTS = ["E-1", "M-2", "E-M-3", "X-4", "", "M-", "E-1 ", "e-1"]
ORDERS = {
    "entity": "event",
    "format": "csv",
    "path": "orders/*.csv",
    "key": "order_id",
    "mapping": {
        "occurred_at": "at",
        "customer_ref": "customer",
        "product_ref": "item",
        "quantity": "qty",
        "amount": "amount",
        "currency": "cur",
        "channel": "via",
    },
    "event": {
        "type_column": "status",
        "type_map": {"PLACED": "purchase", "CANCELLED": "order_cancelled", "it's": "purchase"},
        "channel": "web",
        "customer_sources": ["crm", "shop"],
        "customer_source_column": "system",
        "customer_source_map": {"CRM-A": "crm"},
        "product_sources": ["erp", "mp"],
        "product_key_prefixes": {"E-": "erp", "M-": "mp"},
        "product_strip_prefix": True,
    },
}
TILL = {  # a constant type; templates; kept prefixes; typed JSON payloads
    "entity": "event",
    "format": "jsonl",
    "path": "till/*.jsonl",
    "key": "txn",
    "mapping": {
        "occurred_at": "{day}T{time}",
        "customer_ref": "{branch}-{member}",
        "product_ref": "item",
        "quantity": "qty",
        "amount": "{price} {cur}",
        "currency": "cur",
    },
    "event": {
        "type": "purchase",
        "channel": "store",
        "customer_source": "crm",
        "product_sources": ["erp", "mp"],
        "product_key_prefixes": {"E-": "erp", "M-": "mp"},
    },
}
VISITS = {  # no product references; a source that never lands anything comes after it
    "entity": "event",
    "format": "csv",
    "path": "visits/*.csv",
    "key": "id",
    "mapping": {"occurred_at": "at", "customer_ref": "who"},
    "event": {"type": "product_view", "channel": "web", "customer_source": "shop"},
}
NEVER = {**VISITS, "path": "never/*.csv"}
PARSED = {  # every odd value of every parsed attribute, none rejected for its type
    "entity": "event",
    "format": "csv",
    "path": "parsed/*.csv",
    "key": "id",
    "mapping": {"occurred_at": "at", "quantity": "qty", "amount": "amount", "currency": "cur"},
    "event": {"type": "purchase", "channel": "web"},
}
CUSTOMER_MASTERS = {
    "crm:1": "CUS-1", "shop:2": "CUS-2", "crm:5": "CUS-5", "crm:Zoë": "CUS-Z", "crm:it's": "CUS-Q",
    "crm:crm:1": "CUS-C", "crm:B1-7": "CUS-7", "crm:7": "CUS-X", "shop:v1": "CUS-V",
}  # fmt: skip
PRODUCT_MASTERS = {"erp:1": "P-1", "mp:2": "P-2", "erp:E-1": "P-E1", "mp:M-2": "P-M2"}


def _write_csv(folder: Path, name: str, header: list[str], rows: Sequence[Sequence[str]]) -> None:
    import csv

    folder.mkdir(parents=True, exist_ok=True)
    with (folder / name).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _edge_lake(tmp_path: Path, lake: Lake, engine: str = "duckdb") -> E360Config:
    from ingestion.batch import ingest_source

    customer = {"entity": "customer", "format": "csv", "key": "id", "mapping": {"email": "email"}}
    product = {"entity": "product", "format": "csv", "key": "id", "mapping": {"title": "title"}}
    config = E360Config.model_validate(
        {
            "project": {"root": str(tmp_path)},
            "deployment": {"engine": {"type": engine, "spark_conf": {"spark.master": "local[2]"}}},
            "sources": {
                "crm": {**customer, "path": "crm/*.csv"},
                "shop": {**customer, "path": "shop/*.csv"},
                "erp": {**product, "path": "erp/*.csv"},
                "mp": {**product, "path": "mp/*.csv"},
                "orders": ORDERS,
                "till": TILL,
                "visits": VISITS,
                "never": NEVER,
                "parsed": PARSED,
            },
            "entities": {
                "customer": {"matching": _EMAIL_MATCHING},
                "product": {"matching": _EMAIL_MATCHING},
            },
        }
    )
    landing = tmp_path / "landing"
    header = ["order_id", "at", "status", "system", "customer", "item", "qty", "amount", "cur"]
    lists = (TIMESTAMPS, TYPES, CUSTOMERS, PRODUCTS, QUANTITIES, AMOUNTS, CURRENCIES, CHANNELS)
    rows = []
    for i in range(2 * max(len(values) for values in lists)):
        system, customer_key = CUSTOMERS[i % len(CUSTOMERS)]
        rows.append(
            [f"o{i}" if i % 13 else f"o'{i}", TIMESTAMPS[i % len(TIMESTAMPS)],
             TYPES[i % len(TYPES)], system, customer_key, PRODUCTS[i % len(PRODUCTS)],
             QUANTITIES[i % len(QUANTITIES)], AMOUNTS[i % len(AMOUNTS)],
             CURRENCIES[i % len(CURRENCIES)], CHANNELS[i % len(CHANNELS)]]
        )  # fmt: skip
    _write_csv(landing / "orders", "orders_1.csv", [*header, "via"], rows[:30])
    # Re-delivers o1 and o2 changed, after the rest.
    redelivered = [
        *rows[30:],
        ["o2", "2024-06-01", "CANCELLED", "shop", "2", "M-2", "1", "5", "EUR", ""],
        ["o1", "garbage", "PLACED", "CRM-A", "1", "E-1", "1", "5", "GBP", "app"],
    ]
    _write_csv(landing / "orders", "orders_2.csv", [*header, "via"], redelivered)
    till = [
        {"txn": 1, "day": "2024-05-01", "time": "10:00:00", "branch": "B1", "member": 7,
         "item": "E-1", "qty": 2, "price": 3.5, "cur": "GBP"},
        {"txn": 2, "day": "2024-05-01", "time": None, "branch": None, "member": 7,
         "item": "M-2", "qty": 2.5, "price": None, "cur": "£"},
        {"txn": 3, "day": None, "time": "10:00:00", "branch": " ", "member": None,
         "item": "E-9", "qty": None, "price": -1.25, "cur": None},
        {"txn": 4, "day": "2024-05-02", "time": "11:00:00", "branch": "B1", "member": 8,
         "item": None, "qty": True, "price": 1e21, "cur": "EUR"},
        {"txn": " 5 ", "day": "2024-05-02", "time": "11:00:00", "branch": "B2", "member": "",
         "item": "M-2", "qty": -3, "price": "12,50", "cur": "€"},
    ]  # fmt: skip
    (landing / "till").mkdir()
    (landing / "till" / "till_1.jsonl").write_text("".join(json.dumps(t) + "\n" for t in till))
    _write_csv(landing / "visits", "v.csv", ["id", "at", "who"], [
        ["1", "2024-05-01", "v1"], ["2", "2024-05-01", ""], ["3", "nope", "v1"],
        ["4", "2024-05-01", "v2"], [" ", "2024-05-01", "v1"],
    ])  # fmt: skip
    parsed = [
        [str(i), TIMESTAMPS[i % len(TIMESTAMPS)], QUANTITIES[i % len(QUANTITIES)],
         AMOUNTS[i % len(AMOUNTS)], CURRENCIES[i % len(CURRENCIES)]]
        for i in range(max(len(TIMESTAMPS), len(QUANTITIES), len(AMOUNTS)))
    ]  # fmt: skip
    _write_csv(landing / "parsed", "p.csv", ["id", "at", "qty", "amount", "cur"], parsed)
    for i, name in enumerate(("orders", "till", "visits", "parsed")):  # `never` lands nothing
        ingest_source(lake, name, config.sources[name], landing, f"batch-{i}")
    return config


_EMAIL_MATCHING = {
    "blocking_rules": [["email"]],
    "comparisons": [{"type": "exact", "column": "email"}],
    "training": {"deterministic_rules": [["email"]], "em_blocking_rules": [["email"]]},
}


def test_edge_cases_conform_and_reject_alike(tmp_path: Path, lake: Lake) -> None:
    config = _edge_lake(tmp_path, lake)
    counts = assert_same_conformance(config, lake, CUSTOMER_MASTERS, PRODUCT_MASTERS)
    by_source = {c.source: c for c in counts}
    assert list(by_source) == ["orders", "till", "visits", "never", "parsed"]
    assert 0 < by_source["parsed"].rejected < by_source["parsed"].records
    orders = by_source["orders"]
    assert orders.conformed and orders.unresolved_customer and orders.unresolved_product
    assert by_source["till"].conformed and by_source["till"].rejected
    assert by_source["visits"] == EventCounts("visits", 4, 2, 2, 1, 0, 1, 0)
    assert by_source["never"] == EventCounts("never", 0, 0, 0, 0, 0)
    rejects = lake.read("conformed", CONFORMED_EVENT_REJECTS)
    assert rejects is not None
    reasons = " ".join(rejects.column("reason").to_pylist())
    for fragment in (
        "is not a timestamp",
        "is not in sources.orders.event.type_map",
        "system names 'FOO'",
        "system names nothing",
        "no shop record shop:9",
        "starts with none of the key prefixes",
        "no erp record erp:M-3",
        "; ",
    ):
        assert fragment in reasons, fragment  # fmt: skip
    # Both again with nothing mastered, then with only the other side's masters.
    assert_same_conformance(config, lake, {}, {})
    assert_same_conformance(config, lake, {}, PRODUCT_MASTERS)


def test_rows_given_in_memory_conform_as_the_reference_conforms_them() -> None:
    source = SourceConfig.model_validate(ORDERS)
    rows = [
        {"order_id": f"o{i}", "at": at, "status": "PLACED", "system": "crm", "customer": "1",
         "item": "E-1", "qty": q, "amount": a, "cur": "GBP", "_file": "f", "_row": i}
        for i, (at, q, a) in enumerate(zip(TIMESTAMPS, QUANTITIES, AMOUNTS, strict=False))
    ]  # fmt: skip
    expected = reference_conform_events(
        "orders", source, rows, CUSTOMER_MASTERS, PRODUCT_MASTERS, "r1"
    )
    got = conform_events(
        "orders",
        source,
        rows,
        masters_table(CUSTOMER_MASTERS),
        masters_table(PRODUCT_MASTERS),
        "r1",
    )
    assert got == expected


def test_numbers_beyond_a_bigint_are_no_quantity() -> None:
    # The per-row path failed writing these (int64 overflow); they are no count of anything.
    source = SourceConfig.model_validate(PARSED)
    rows = [
        {"id": str(i), "at": "2024-05-01", "qty": qty, "_file": "f", "_row": i}
        for i, qty in enumerate(["1e20", "9223372036854775807", "-1e19", "7"])
    ]
    events, rejects, _ = conform_events(
        "parsed", source, rows, masters_table({}), masters_table({}), "r1"
    )
    assert rejects == [] and [e["quantity"] for e in events] == [None, None, None, 7]


@pytest.mark.spark
def test_spark_conforms_the_edge_cases_as_duckdb_does(tmp_path: Path, lake: Lake) -> None:
    config = _edge_lake(tmp_path, lake, engine="spark")
    # Two event sources keep Spark local mode quick: source maps, stripped prefixes and every
    # odd value the UDFs parse.
    kept = {n: s for n, s in config.sources.items() if n not in ("till", "visits", "never")}
    spark = config.model_copy(update={"sources": kept})
    duckdb = spark.model_copy(
        update={"deployment": config.deployment.model_copy(update={"engine": EngineSettings()})}
    )
    tables = {}
    for engine, run in (("duckdb", duckdb), ("spark", spark)):
        counts = build_conformed_events(
            run, lake, masters_table(CUSTOMER_MASTERS), masters_table(PRODUCT_MASTERS), "run-1"
        )
        events = lake.read("conformed", CONFORMED_EVENTS)
        rejects = lake.read("conformed", CONFORMED_EVENT_REJECTS)
        assert events is not None and rejects is not None
        tables[engine] = (events.to_pylist(), rejects.to_pylist(), counts)
    assert tables["spark"] == tables["duckdb"]
    assert len(tables["spark"][0]) > 20 and len(tables["spark"][1]) > 20
