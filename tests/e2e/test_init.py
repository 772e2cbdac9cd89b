"""`e360 init` against the pipeline: the configuration it guesses for the demo's landing folder
runs end to end and resolves customers as well as the hand-written demo configuration; on a
latin-1 export with ';' the source it writes lands every row, accents intact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from demo import generate_demo_data
from e360.config import load_config
from e360.lake import Lake
from e360.report import RunReport
from e360.zones import raw_table_name
from onboarding import init_config
from orchestration.runner import run_pipeline

pytestmark = pytest.mark.e2e


@dataclass
class Runs:
    hand_written: RunReport
    guessed: RunReport
    guessed_config_text: str


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path) -> Runs:
    data = tmp_path_factory.mktemp("demo")
    generate_demo_data(data, customers=300, seed=7)
    # The hand-written configuration only needs to be scored: its run stops after matching.
    hand = load_config(demo_config_path, overrides={"project.root": str(data)}, environ={})
    hand_written = run_pipeline(hand, ("ingest", "standardize", "match"))
    project = tmp_path_factory.mktemp("init")
    path = project / "e360.yaml"
    init_config(data / "landing", path)
    truth = {
        "customer": str(data / "truth" / "customers.csv"),
        "product": str(data / "truth" / "products.csv"),
    }
    guessed = load_config(path, overrides={"evaluation.truth": truth}, environ={})
    return Runs(hand_written, run_pipeline(guessed), path.read_text())


def _pairwise(report: RunReport, entity: str) -> dict[str, float]:
    return report.evaluation[entity]["pairwise"]


def test_the_guessed_configuration_runs_end_to_end(runs: Runs) -> None:
    report = runs.guessed
    assert report.status == "succeeded"
    assert set(report.timings) == {"ingest", "standardize", "match", "publish"}
    assert report.publish["dbt"]["tests_failed"] == 0
    assert all(check["passed"] for check in report.checks.values())
    # every landing row is landed or quarantined, and the demo's malformed rows are the latter
    by_source = {r["source"]: r for r in report.ingest}
    assert by_source.keys() == {s["source"] for s in runs.hand_written.ingest}
    for source, result in by_source.items():
        assert result["rows_in"] == result["landed"] + result["quarantined"], source
    assert by_source["crm"]["quarantined"] == 3 and by_source["ecommerce"]["quarantined"] == 3


def test_customer_matching_is_as_good_as_the_hand_written_configuration(runs: Runs) -> None:
    guessed = _pairwise(runs.guessed, "customer")
    hand = _pairwise(runs.hand_written, "customer")
    print(  # the figures, for the record (pytest -s)
        json.dumps(
            {
                entity: {
                    "hand_written_f1": _pairwise(runs.hand_written, entity)["f1"],
                    "init_f1": _pairwise(runs.guessed, entity)["f1"],
                }
                for entity in ("customer", "product")
            }
        )
    )
    assert guessed["f1"] >= hand["f1"] - 0.02, (guessed, hand)
    assert guessed["f1"] >= 0.9, guessed


def test_the_events_reference_the_sources_their_keys_belong_to(runs: Runs) -> None:
    text = runs.guessed_config_text
    for feed, customers, products in (
        ("webshop", "ecommerce", "marketplace"),
        ("pos", "loyalty", "erp"),
        ("clickstream", "ecommerce", "marketplace"),
    ):
        block = text.split(f"\n  {feed}:", 1)[1].split("\n\n", 1)[0]
        assert f"customer_source: {customers} " in block, feed
        assert f"product_source: {products} " in block, feed
        assert "entity: event " in block, feed


CRM_ROWS = [
    ("K-1001", "José", "García", "jose.garcia@example.com", "23/12/1953", "Málaga"),
    ("K-1002", "Zoë", "Brontë", "zoe@example.org", "02/11/1944", "Leeds"),
    ("K-1003", "Ana", "Muñoz", "ana.munoz@example.net", "17/01/1990", "Bristol"),
]


def test_a_latin1_semicolon_export_lands_with_its_accents(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    (landing / "crm").mkdir(parents=True)
    lines = ["id;forename;surname;email;birth_date;town", *(";".join(r) for r in CRM_ROWS)]
    (landing / "crm" / "crm.csv").write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    (landing / "items").mkdir()
    items = [
        {"sku": "A-1", "title": "Vantor X100 Toaster", "gtin": "5067389372215", "price": 19.99},
        {"sku": "A-2", "title": "Vantor X200 Kettle", "gtin": "5075177972103", "price": 29.99},
    ]
    (landing / "items" / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items))
    path = tmp_path / "e360.yaml"
    init_config(landing, path)
    assert "csv: {encoding: latin-1, delimiter: ;}" in path.read_text()
    config = load_config(path, environ={})
    report = run_pipeline(config, ("ingest",))
    crm = next(r for r in report.ingest if r["source"] == "crm")
    assert (crm["rows_in"], crm["landed"], crm["quarantined"]) == (3, 3, 0)
    raw = Lake.from_config(config).read("raw", raw_table_name("crm", config.sources["crm"]))
    assert {"José", "Zoë", "Ana"} <= set(raw.column("forename").to_pylist())
