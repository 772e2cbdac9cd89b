"""Conformed events: source events mapped onto the event model and carrying master ids.

An event that cannot be conformed (no timestamp that parses, a type the source's `type_map`
does not know) is not dropped: it goes to `conformed.event_rejects` with the reason.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from e360.config import E360Config, SourceConfig
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
    source: str
    records: int
    conformed: int
    rejected: int
    with_customer_master: int
    with_product_master: int


def conform_event(
    name: str,
    source: SourceConfig,
    row: Mapping[str, Any],
    customer_masters: Mapping[str, str],
    product_masters: Mapping[str, str],
) -> tuple[dict[str, Any] | None, str | None]:
    """One source row -> (conformed event, None) or (None, reason)."""
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
    customer_ref = _ref(settings.customer_source, mapped.get("customer_ref"))
    product_ref = _ref(settings.product_source, mapped.get("product_ref"))
    return {
        "event_id": record_id(name, row[source.key]),
        "event_type": event_type,
        "occurred_at": occurred_at,
        "source": name,
        "channel": mapped.get("channel") or settings.channel,
        "customer_ref": customer_ref,
        "product_ref": product_ref,
        "customer_master_id": customer_masters.get(customer_ref) if customer_ref else None,
        "product_master_id": product_masters.get(product_ref) if product_ref else None,
        "quantity": _quantity(mapped.get("quantity")),
        "amount": _amount(mapped.get("amount")),
        "currency": currency(mapped.get("currency")),
    }, None


def _ref(source: str | None, key: str | None) -> str | None:
    if source is None or key is None or not str(key).strip():
        return None
    return record_id(source, str(key).strip())


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


def build_conformed_events(
    config: E360Config,
    lake: Lake,
    customer_masters: Mapping[str, str],
    product_masters: Mapping[str, str],
    run_id: str,
) -> list[EventCounts]:
    """Rebuild `conformed.events` (and `conformed.event_rejects`) from every event source."""
    events: list[dict[str, Any]] = []
    rejects: list[dict[str, Any]] = []
    counts = []
    for name, source in config.sources_of("event").items():
        rows = latest_raw_records(lake, name, source)
        conformed = 0
        with_customer = with_product = 0
        for row in rows:
            event, reason = conform_event(name, source, row, customer_masters, product_masters)
            if event is None:
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
                continue
            event["run_id"] = run_id
            events.append(event)
            conformed += 1
            with_customer += event["customer_master_id"] is not None
            with_product += event["product_master_id"] is not None
        counts.append(
            EventCounts(
                name, len(rows), conformed, len(rows) - conformed, with_customer, with_product
            )
        )
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
