"""From raw to conformed: the latest version of each key wins, events conform or are rejected."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from services.raw_reference import per_row_latest

from e360.config import EventSettings, SourceConfig
from e360.lake import Lake
from ingestion.batch import ingest_source, latest_delivery
from matching.mastering.events import conform_events, masters_table

ORDERS = SourceConfig(
    entity="event",
    format="csv",
    path="orders/*.csv",
    key="order_id",
    mapping={"occurred_at": "at", "customer_ref": "account", "quantity": "qty", "amount": "amount"},
    event=EventSettings(
        type_column="status",
        type_map={"PLACED": "purchase", "CANCELLED": "order_cancelled"},
        channel="web",
        customer_source="shop",
    ),
)


def _deliver(landing: Path, name: str, text: str) -> None:
    folder = landing / "orders"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text)


def test_a_redelivered_key_keeps_its_latest_version_whatever_its_whitespace(
    lake: Lake, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    header = "order_id,at,account,qty,amount,status\n"
    _deliver(
        landing,
        "1.csv",
        header + "o1,2024-01-01T10:00:00,a1,1,10,PLACED\no2,2024-01-02,a2,1,5,PLACED\n",
    )
    ingest_source(lake, "orders", ORDERS, landing, "batch-1")
    _deliver(landing, "2.csv", header + "o1\t,2024-01-01T10:00:00,a1,1,10,CANCELLED\n")
    ingest_source(lake, "orders", ORDERS, landing, "batch-2")
    latest = per_row_latest(lake, "orders", ORDERS)
    assert [(r["order_id"], r["status"]) for r in latest] == [("o2", "PLACED"), ("o1", "CANCELLED")]


def test_the_latest_delivery_is_what_the_quarantine_check_judges(
    lake: Lake, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    header = "order_id,at,account,qty,amount,status\n"
    _deliver(landing, "1.csv", header + "o1,2024-01-01,a1,1,10,PLACED\n,2024-01-01,a1,1,1,PLACED\n")
    ingest_source(lake, "orders", ORDERS, landing, "20240101T000000Z-aaaaaa")
    assert latest_delivery(lake, "orders", ORDERS) == (2, 1)
    # A run that lands nothing new sees the same delivery again, not an empty one.
    assert ingest_source(lake, "orders", ORDERS, landing, "20240102T000000Z-bbbbbb").rows_in == 0
    assert latest_delivery(lake, "orders", ORDERS) == (2, 1)
    _deliver(landing, "2.csv", header + "o2,2024-01-03,a2,1,10,PLACED\n")
    ingest_source(lake, "orders", ORDERS, landing, "20240103T000000Z-cccccc")
    assert latest_delivery(lake, "orders", ORDERS) == (1, 0)


def _row(**values: str) -> dict[str, str]:
    base = {
        "order_id": "o1",
        "at": "2024-05-01T12:30:00Z",
        "account": "a1",
        "qty": "2",
        "amount": "19.98",
        "status": "PLACED",
    }
    return {**base, **values}


def _conform(row: dict[str, str], customers: dict[str, str] | None = None):
    events, rejects, counts = conform_events(
        "orders", ORDERS, [row], masters_table(customers or {}), masters_table({}), "r1"
    )
    assert counts.records == counts.conformed + counts.rejected == 1
    return (events[0] if events else None), (rejects[0]["reason"] if rejects else None)


def test_an_event_conforms_with_master_ids_from_its_references() -> None:
    event, reason = _conform({**_row(), "_file": "f", "_row": 1}, {"shop:a1": "CUS-1"})
    assert reason is None
    assert event["event_id"] == "orders:o1" and event["event_type"] == "purchase"
    assert event["occurred_at"] == datetime(2024, 5, 1, 12, 30)
    assert event["customer_ref"] == "shop:a1" and event["customer_master_id"] == "CUS-1"
    assert event["product_ref"] is None and event["channel"] == "web"
    assert (event["quantity"], event["amount"]) == (2, 19.98)


def test_refund_amounts_keep_their_sign_and_nonsense_quantities_become_null() -> None:
    event, _ = _conform(_row(amount="-19.98", qty="1e400"), {"shop:a1": "CUS-1"})
    assert event is not None
    assert event["amount"] == -19.98 and event["quantity"] is None


def test_a_reference_to_no_record_is_rejected_and_an_empty_one_is_anonymous() -> None:
    event, reason = _conform({**_row(), "_file": "f", "_row": 1})
    assert event is None
    assert reason == (
        "customer_ref 'a1': no shop record shop:a1 (not landed, quarantined, or not mastered yet); "
        "customer sources: shop"
    )
    event, reason = _conform({**_row(account=" "), "_file": "f", "_row": 1})
    assert reason is None and event["customer_ref"] is None and event["customer_master_id"] is None


@pytest.mark.parametrize(
    ("values", "reason"),
    [
        ({"status": "REFUNDED"}, "event type 'REFUNDED' is not in sources.orders.event.type_map"),
        ({"at": "yesterday"}, "occurred_at 'yesterday' is not a timestamp"),
    ],
)
def test_events_that_cannot_conform_say_why(values, reason) -> None:
    assert _conform({**_row(**values), "_file": "f", "_row": 1}) == (None, reason)
