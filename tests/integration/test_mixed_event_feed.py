"""One orders feed naming customers of two CRMs (by a source column) and products of two
catalogues (by key prefixes), through the real pipeline: ingestion, Splink matching on DuckDB,
the Iceberg lake. Every resolvable event is attributed to its master; the rest are rejected
with their reasons, counted, and conform once what they name has landed."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from services.configs import write_config

from demo import generate_demo_data
from demo.files import CRM_COLUMNS, CRM_FILE
from e360.config import E360Config, load_config
from e360.lake import Lake
from e360.zones import CONFORMED_EVENT_REJECTS, CONFORMED_EVENTS
from matching.mastering.zone import masters_by_record, record_masters
from orchestration.runner import RunFailed, run_pipeline

STAGES = ("ingest", "standardize", "match")
LATE_CUSTOMER = "C999999"  # a CRM key the feed names before the CRM delivers it

ORDERS = {
    "entity": "event",
    "format": "csv",
    "path": "orders/*.csv",
    "key": "order_id",
    "mapping": {"occurred_at": "at", "customer_ref": "customer", "product_ref": "item"},
    "event": {
        "type": "purchase",
        "channel": "web",
        "customer_sources": ["crm", "ecommerce"],
        "customer_source_column": "system",
        "customer_source_map": {"CRM-A": "crm", "SHOP": "ecommerce"},
        "product_sources": ["erp", "marketplace"],
        "product_key_prefixes": {"SKU-": "erp", "MP-": "marketplace"},
    },
}


def _keys(truth: Path, source: str) -> list[str]:
    with truth.open(newline="") as handle:
        return [row["source_key"] for row in csv.DictReader(handle) if row["source"] == source]


def _orders(root: Path) -> dict[str, tuple[str, str, str]]:
    """order id -> (system, customer key, item key), built from keys the demo landed."""
    crm, shop = (
        _keys(root / "truth/customers.csv", "crm"),
        _keys(root / "truth/customers.csv", "ecommerce"),
    )
    erp, market = (
        _keys(root / "truth/products.csv", "erp"),
        _keys(root / "truth/products.csv", "marketplace"),
    )
    return {
        "o1": ("CRM-A", crm[0], erp[0]),
        "o2": ("SHOP", shop[0], market[0]),
        "o3": ("ecommerce", shop[1], erp[1]),  # a value that is a source name itself
        "o4": (" crm ", crm[1], market[1]),
        "o5": ("", "", market[2]),  # an anonymous customer: conformed, no customer master
        "o6": ("SHOP", crm[2], erp[2]),  # a CRM key named as a shop key
        "o7": ("LEGACY", crm[3], erp[3]),  # a system configured nowhere
        "o8": ("CRM-A", LATE_CUSTOMER, erp[4]),  # not landed yet
        "o9": ("CRM-A", crm[4], "XX-1"),  # no catalogue's prefix
        "o10": ("LEGACY", crm[5], "SKU-999999"),  # neither reference resolves
    }


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> tuple[E360Config, dict[str, Any]]:
    root = tmp_path_factory.mktemp("mixed_feed")
    generate_demo_data(root, customers=60, seed=3)
    orders = _orders(root)
    (root / "landing/orders").mkdir()
    with (root / "landing/orders/orders_1.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "at", "system", "customer", "item"])
        for order_id, (system, customer, item) in orders.items():
            writer.writerow([order_id, "2024-05-01T12:00:00Z", system, customer, item])
    # A small demo: its three malformed rows per customer file are a large share of it.
    overrides = {"quality.max_quarantine_rate": 0.2}
    config = load_config(write_config(root, {"orders": ORDERS}), overrides=overrides, environ={})
    return config, orders


def _conformed(lake: Lake) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    events = lake.read("conformed", CONFORMED_EVENTS)
    rejects = lake.read("conformed", CONFORMED_EVENT_REJECTS)
    assert events is not None and rejects is not None
    orders = {e["event_id"]: e for e in events.to_pylist() if e["source"] == "orders"}
    reasons = {r["source_key"]: r["reason"] for r in rejects.to_pylist() if r["source"] == "orders"}
    return orders, reasons


def test_a_mixed_feed_attributes_what_resolves_and_rejects_the_rest_with_reasons(
    project: tuple[E360Config, dict[str, Any]],
) -> None:
    config, orders = project
    # Half the feed rejected is far over the default limit: the run stops before publishing,
    # naming the source, and the rejects are there to read.
    with pytest.raises(RunFailed) as failed:
        run_pipeline(config, STAGES)
    report = failed.value.report
    assert "check conformed/events:event_reject_rate failed" in str(report.error)
    assert "orders rejected 50.0%" in str(report.error)
    lake = Lake.from_config(config)
    customers = masters_by_record(record_masters(lake, "customer"))
    products = masters_by_record(record_masters(lake, "product"))
    events, reasons = _conformed(lake)

    expected = {
        "o1": ("crm", "erp"),
        "o2": ("ecommerce", "marketplace"),
        "o3": ("ecommerce", "erp"),
        "o4": ("crm", "marketplace"),
        "o5": (None, "marketplace"),
    }
    assert set(events) == {f"orders:{o}" for o in expected}
    for order_id, (customer_source, product_source) in expected.items():
        event = events[f"orders:{order_id}"]
        _, customer_key, item_key = orders[order_id]
        if customer_source is None:
            assert event["customer_ref"] is None and event["customer_master_id"] is None
        else:
            ref = f"{customer_source}:{customer_key}"
            assert event["customer_ref"] == ref
            assert event["customer_master_id"] == customers[ref]
        ref = f"{product_source}:{item_key}"
        assert event["product_ref"] == ref and event["product_master_id"] == products[ref]

    crm_key = orders["o6"][1]
    assert reasons["o6"] == (
        f"customer_ref '{crm_key}': no ecommerce record ecommerce:{crm_key} "
        "(not landed, quarantined, or not mastered yet); customer sources: crm, ecommerce"
    )
    assert reasons["o7"] == (
        f"customer_ref '{orders['o7'][1]}': system names 'LEGACY', none of the customer "
        "sources crm, ecommerce"
    )
    assert f"no crm record crm:{LATE_CUSTOMER}" in reasons["o8"]
    assert reasons["o9"] == (
        "product_ref 'XX-1' starts with none of the key prefixes 'SKU-' (erp), 'MP-' (marketplace)"
    )
    assert "system names 'LEGACY'" in reasons["o10"]
    assert "no erp record erp:SKU-999999" in reasons["o10"]
    assert set(reasons) == {"o6", "o7", "o8", "o9", "o10"}

    (counts,) = [c for c in report.events if c["source"] == "orders"]
    assert counts["records"] == len(orders) == counts["conformed"] + counts["rejected"]
    assert (counts["conformed"], counts["rejected"]) == (5, 5)
    assert (counts["unresolved_customer"], counts["unresolved_product"]) == (4, 2)
    assert (counts["with_customer_master"], counts["with_product_master"]) == (4, 5)


def test_an_event_rejected_for_a_customer_not_yet_landed_conforms_once_it_lands(
    project: tuple[E360Config, dict[str, Any]],
) -> None:
    config, _ = project
    landing = config.landing_dir
    with (landing / CRM_FILE).open(newline="") as handle:
        template = next(csv.DictReader(handle))
    with (landing / "crm/crm_customers_2.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, CRM_COLUMNS)
        writer.writeheader()
        writer.writerow({**template, "customer_id": LATE_CUSTOMER, "email": "late@example.com"})

    # Four of ten still rejected, deliberately: this run may reject up to half.
    overrides = {**config.overrides, "quality.max_event_reject_rate": 0.5}
    report = run_pipeline(load_config(config.file, overrides=overrides, environ={}), STAGES)
    assert report.status == "succeeded", report.error
    lake = Lake.from_config(config)
    events, reasons = _conformed(lake)
    late = events["orders:o8"]
    assert late["customer_ref"] == f"crm:{LATE_CUSTOMER}"
    assert (
        late["customer_master_id"]
        == masters_by_record(record_masters(lake, "customer"))[late["customer_ref"]]
    )
    assert "o8" not in reasons and set(reasons) == {"o6", "o7", "o9", "o10"}
    (counts,) = [c for c in report.events if c["source"] == "orders"]
    assert (counts["conformed"], counts["rejected"], counts["unresolved_customer"]) == (6, 4, 3)
