"""Conformed events: source events mapped onto the event model and carrying master ids.

An event that cannot be conformed (no timestamp that parses, a type the source's `type_map`
does not know, a customer or product reference that names no record) is not dropped: it goes to
`conformed.event_rejects` with the reason. An empty reference is an anonymous event: its master
id is null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
import pyarrow.compute as pc

from e360.config import E360Config, EventReference, SourceConfig
from e360.entities import record_id
from e360.lake import Lake
from e360.mappings import apply_mapping
from e360.zones import CONFORMED_EVENT_REJECTS, CONFORMED_EVENTS
from matching.standardize import currency, price, timestamp
from matching.standardize.zone import latest_raw_records

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("source", pa.string()),
        ("channel", pa.string()),
        ("customer_ref", pa.string()),
        ("product_ref", pa.string()),
        ("customer_master_id", pa.string()),
        ("product_master_id", pa.string()),
        ("quantity", pa.int64()),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("run_id", pa.string()),
    ]
)
REJECT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("source_key", pa.string()),
        ("_file", pa.string()),
        ("_row", pa.int64()),
        ("reason", pa.string()),
        ("run_id", pa.string()),
    ]
)


@dataclass
class EventCounts:
    """One event source's conformance: `records` = `conformed` + `rejected`; an event rejected
    for its reference counts in `unresolved_customer` and/or `unresolved_product` (both, when
    both references fail), one rejected otherwise in neither."""

    source: str
    records: int
    conformed: int
    rejected: int
    with_customer_master: int
    with_product_master: int
    unresolved_customer: int = 0
    unresolved_product: int = 0


@dataclass(frozen=True)
class Resolution:
    """References of a batch of events resolved, position by position."""

    record_ids: list[str | None]
    """`<source>:<key>`, null for an empty reference or one naming no configured source."""
    master_ids: list[str | None]
    problems: dict[int, str]
    """Position -> why a non-empty reference resolves to no record."""


def conform_event(
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


def resolve_references(
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


def conform_events(
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
        event, reason = conform_event(name, source, row)
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
        resolution = resolve_references(reference, keys, systems, masters)
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


def build_conformed_events(
    config: E360Config,
    lake: Lake,
    customer_masters: Mapping[str, str],
    product_masters: Mapping[str, str],
    run_id: str,
) -> list[EventCounts]:
    """Rebuild `conformed.events` (and `conformed.event_rejects`) from every event source.

    Rebuilt from the raw zone every run: an event rejected because its customer had not
    landed yet conforms in the first run after the customer lands.
    """
    events: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    counts = []
    for name, source in config.sources_of("event").items():
        rows = latest_raw_records(lake, name, source)
        conformed, rejected, count = conform_events(
            name, source, rows, customer_masters, product_masters, run_id
        )
        events.extend(conformed)
        rejects.extend(rejected)
        counts.append(count)
    lake.replace(
        "conformed",
        CONFORMED_EVENTS,
        pa.Table.from_pylist(events, schema=EVENT_SCHEMA),
        description="Conformed events carrying customer and product master ids",
    )
    lake.replace(
        "conformed",
        CONFORMED_EVENT_REJECTS,
        pa.Table.from_pylist(rejects, schema=REJECT_SCHEMA),
        description="Source events that could not be conformed, with the reason",
    )
    return counts
