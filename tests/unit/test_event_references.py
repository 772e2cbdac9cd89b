"""Event references into several sources: the configuration says how a row names its source,
the checks refuse what cannot resolve, resolution picks the source per row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

from e360.config import load_config
from e360.config.sources import EventReference
from e360.console import print_summary
from e360.errors import ConfigError
from e360.report import RunReport
from matching.mastering.events import resolve_references

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


def test_a_source_column_names_the_source_directly_or_through_its_map() -> None:
    resolution = resolve_references(
        CRMS,
        ["1", " 2 ", "", None, "3", "4"],
        ["CRM-A", "shop", "FOO", None, "FOO", None],
        {"crm:1": "CUS-1", "shop:2": "CUS-2"},
    )
    assert resolution.record_ids == ["crm:1", "shop:2", None, None, None, None]
    assert resolution.master_ids == ["CUS-1", "CUS-2", None, None, None, None]
    # Empty references are anonymous events, whatever the column says.
    assert resolution.problems == {
        4: "customer_ref '3': system names 'FOO', none of the customer sources crm, shop",
        5: "customer_ref '4': system names nothing, none of the customer sources crm, shop",
    }


def test_a_key_in_the_named_source_that_is_not_there_names_the_record_it_looked_for() -> None:
    resolution = resolve_references(CRMS, ["9"], ["shop"], {"crm:9": "CUS-9"})
    assert resolution.master_ids == [None]
    assert resolution.problems == {
        0: "customer_ref '9': no shop record shop:9 (not landed, quarantined, or not mastered yet); "
        "customer sources: crm, shop"
    }


@pytest.mark.parametrize(
    ("strip", "masters", "ids"),
    [
        (False, {"erp:E-1": "P1", "mp:M-2": "P2"}, ["erp:E-1", "mp:M-2", "erp:E-M-3", None]),
        # Stripped: the prefix is tested on the key as given, so `E-M-3` is erp's `M-3`.
        (True, {"erp:1": "P1", "mp:2": "P2"}, ["erp:1", "mp:2", "erp:M-3", None]),
    ],
)
def test_key_prefixes_choose_the_source_kept_or_stripped(
    strip: bool, masters: dict[str, str], ids: list[str | None]
) -> None:
    catalogues = EventReference(
        "product", ("erp", "mp"), None, {}, {"E-": "erp", "M-": "mp"}, strip
    )
    resolution = resolve_references(catalogues, ["E-1", "M-2", "E-M-3", "X-4"], None, masters)
    assert resolution.record_ids == ids
    assert resolution.master_ids == ["P1", "P2", None, None]
    assert sorted(resolution.problems) == [2, 3]
    assert resolution.problems[3] == (
        "product_ref 'X-4' starts with none of the key prefixes 'E-' (erp), 'M-' (mp)"
    )


def test_one_source_takes_every_key_as_its_own() -> None:
    one = EventReference("customer", ("crm",), None, {}, {}, False)
    resolution = resolve_references(one, ["a", "b", None], None, {"crm:a": "CUS-A"})
    assert resolution.record_ids == ["crm:a", "crm:b", None]
    assert resolution.master_ids == ["CUS-A", None, None]
    assert list(resolution.problems) == [1]
    assert resolve_references(one, [], None, {}).record_ids == []


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
