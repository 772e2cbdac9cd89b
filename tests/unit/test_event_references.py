"""Event references into several sources: the configuration says how a row names its source,
the checks refuse what cannot resolve, resolution picks the source per row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from e360.config import load_config
from e360.config.sources import EventReference, EventSettings, SourceConfig
from e360.console import print_summary
from e360.errors import ConfigError
from e360.report import RunReport
from matching.mastering.events import conform_events, masters_table

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "e360.yaml"


def _load(tmp_path: Path, **event: Any) -> None:
    data = yaml.safe_load(DEMO.read_text())
    data["sources"]["webshop"]["event"].update(event)
    path = tmp_path / "e360.yaml"
    path.write_text(yaml.safe_dump(data))
    load_config(path, environ={})


def test_several_sources_by_column_and_by_prefix_load(tmp_path: Path) -> None:
    _load(
        tmp_path,
        customer_source=None,
        customer_sources=["crm", "ecommerce"],
        customer_source_column="system",
        customer_source_map={"CRM-A": "crm"},
        product_source=None,
        product_sources=["erp", "marketplace"],
        product_key_prefixes={"SKU-": "erp", "MP-": "marketplace"},
    )


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        (
            {"customer_sources": ["crm", "ecommerce"], "customer_source_column": "system"},
            "event.customer_sources: give `customer_source` (one) or this list, not both",
        ),
        (
            {"customer_source": None, "customer_sources": ["crm", "erp"]},
            "event.customer_sources: 'erp' is not a customer source",
        ),
        (
            {"customer_source": None, "customer_sources": ["crm", "nowhere"]},
            "event.customer_sources: 'nowhere' is not a customer source",
        ),
        (
            {"customer_source": None, "customer_sources": ["crm", "ecommerce"]},
            "several sources need `customer_source_column` or `customer_key_prefixes`",
        ),
        (
            {"customer_source_column": "system", "customer_key_prefixes": {"C": "ecommerce"}},
            "event.customer_source_column: give a source column or key prefixes",
        ),
        (
            {"product_key_prefixes": {"MP-": "marketplace", "MP-X": "marketplace"}},
            "event.product_key_prefixes: 'MP-' starts 'MP-X'",
        ),
        (
            {"product_key_prefixes": {"": "marketplace"}},
            "event.product_key_prefixes: an empty prefix matches every key",
        ),
        (
            {"product_key_prefixes": {"SKU-": "erp"}},
            "event.product_key_prefixes: ['erp'] are not among the product sources",
        ),
        (
            {"customer_source_map": {"SHOP": "ecommerce"}},
            "event.customer_source_map: only with `customer_source_column`",
        ),
        (
            {"customer_strip_prefix": True},
            "event.customer_strip_prefix: only with `customer_key_prefixes`",
        ),
        (
            {"customer_source": None},
            "sources.webshop.mapping.customer_ref: name the customer source(s) it points into",
        ),
    ],
)
def test_references_that_cannot_resolve_are_refused_at_load(
    tmp_path: Path, event: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ConfigError) as error:
        _load(tmp_path, **event)
    assert problem in str(error.value)


def test_every_reference_mistake_of_a_source_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as error:
        _load(
            tmp_path,
            customer_source=None,
            customer_sources=["crm", "erp"],
            customer_source_column="system",
            customer_key_prefixes={"C": "crm", "CR": "crm"},
        )
    message = str(error.value)
    assert "'erp' is not a customer source" in message
    assert "give a source column or key prefixes" in message
    assert "'C' starts 'CR'" in message


CRMS = EventReference("customer", ("crm", "shop"), "system", {"CRM-A": "crm"}, {}, False)


def _resolve(
    reference: EventReference,
    keys: list[str | None],
    systems: list[str | None] | None,
    masters: dict[str, str],
) -> tuple[dict[int, tuple[str | None, str | None]], dict[int, str]]:
    """Events naming `keys` (and `systems`) through `reference`, conformed: position ->
    (record id, master id) of the conformed ones, position -> reason of the rejected ones."""
    entity = reference.entity
    sources = list(reference.sources)
    settings: dict[str, Any] = {
        f"{entity}_sources": sources if len(sources) > 1 else [],
        f"{entity}_source": sources[0] if len(sources) == 1 else None,
        f"{entity}_source_column": reference.source_column,
        f"{entity}_source_map": reference.source_map,
        f"{entity}_key_prefixes": reference.key_prefixes,
        f"{entity}_strip_prefix": reference.strip_prefix,
    }
    source = SourceConfig(
        entity="event",
        format="csv",
        path="e/*.csv",
        key="id",
        mapping={"occurred_at": "at", f"{entity}_ref": "ref"},
        event=EventSettings(type="purchase", channel="web", **settings),
    )
    rows = [
        {"id": str(i), "at": "2024-01-01", "ref": key, "system": (systems or [None] * len(keys))[i]}
        for i, key in enumerate(keys)
    ]
    masters_of = masters_table(masters)
    no_masters = masters_table({})
    customers, products = (
        (masters_of, no_masters) if entity == "customer" else (no_masters, masters_of)
    )
    events, rejects, counts = conform_events("e", source, rows, customers, products, "r1")
    assert counts.records == len(keys) and getattr(counts, f"unresolved_{entity}") == len(rejects)
    conformed = {
        int(e["event_id"].split(":")[1]): (e[f"{entity}_ref"], e[f"{entity}_master_id"])
        for e in events
    }
    return conformed, {int(r["source_key"]): r["reason"] for r in rejects}


def test_a_source_column_names_the_source_directly_or_through_its_map() -> None:
    conformed, problems = _resolve(
        CRMS,
        ["1", " 2 ", "", None, "3", "4"],
        ["CRM-A", "shop", "FOO", None, "FOO", None],
        {"crm:1": "CUS-1", "shop:2": "CUS-2"},
    )
    # Empty references are anonymous events, whatever the column says.
    assert conformed == {0: ("crm:1", "CUS-1"), 1: ("shop:2", "CUS-2"), 2: (None, None),
                         3: (None, None)}  # fmt: skip
    assert problems == {
        4: "customer_ref '3': system names 'FOO', none of the customer sources crm, shop",
        5: "customer_ref '4': system names nothing, none of the customer sources crm, shop",
    }


def test_a_key_in_the_named_source_that_is_not_there_names_the_record_it_looked_for() -> None:
    conformed, problems = _resolve(CRMS, ["9"], ["shop"], {"crm:9": "CUS-9"})
    assert conformed == {}
    assert problems == {
        0: "customer_ref '9': no shop record shop:9 (not landed, quarantined, or not mastered yet); "
        "customer sources: crm, shop"
    }


@pytest.mark.parametrize(
    ("strip", "masters", "ids", "missing"),
    [
        (False, {"erp:E-1": "P1", "mp:M-2": "P2"}, ["erp:E-1", "mp:M-2"], "erp:E-M-3"),
        # Stripped: the prefix is tested on the key as given, so `E-M-3` is erp's `M-3`.
        (True, {"erp:1": "P1", "mp:2": "P2"}, ["erp:1", "mp:2"], "erp:M-3"),
    ],
)
def test_key_prefixes_choose_the_source_kept_or_stripped(
    strip: bool, masters: dict[str, str], ids: list[str], missing: str
) -> None:
    catalogues = EventReference(
        "product", ("erp", "mp"), None, {}, {"E-": "erp", "M-": "mp"}, strip
    )
    conformed, problems = _resolve(catalogues, ["E-1", "M-2", "E-M-3", "X-4"], None, masters)
    assert conformed == {0: (ids[0], "P1"), 1: (ids[1], "P2")}
    assert sorted(problems) == [2, 3]
    assert f"no erp record {missing} " in problems[2]
    assert problems[3] == (
        "product_ref 'X-4' starts with none of the key prefixes 'E-' (erp), 'M-' (mp)"
    )


def test_one_source_takes_every_key_as_its_own() -> None:
    one = EventReference("customer", ("crm",), None, {}, {}, False)
    conformed, problems = _resolve(one, ["a", "b", None], None, {"crm:a": "CUS-A"})
    assert conformed == {0: ("crm:a", "CUS-A"), 2: (None, None)}
    assert list(problems) == [1] and "no crm record crm:b " in problems[1]
    assert _resolve(one, [], None, {}) == ({}, {})


def test_the_run_summary_says_how_many_references_resolved_to_no_record() -> None:
    report = RunReport("r1", "e360.yaml", "f", ["match"], "2024-01-01T00:00:00")
    report.events = [
        {"source": "orders", "conformed": 5, "rejected": 5, "unresolved_customer": 4,
         "unresolved_product": 2},
        {"source": "pos", "conformed": 7, "rejected": 0, "unresolved_customer": 0,
         "unresolved_product": 0},
    ]  # fmt: skip
    console = Console(record=True, width=200)
    print_summary(console, report, "report.json")
    assert (
        "Events: 12 conformed, 5 rejected (4 customer and 2 product references resolve to no "
        "record)" in console.export_text()
    )
