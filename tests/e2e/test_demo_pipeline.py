"""The whole pipeline on generated demo data: raw -> standardized -> masters -> dbt.

One small run (and a rerun) is shared by the tests of this module; each test checks one
promise of the product against the lake, the warehouse and the run report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from demo import DemoSummary, generate_demo_data
from e360.config import E360Config, load_config
from e360.lake import Lake
from e360.report import RunReport
from e360.zones import master_table_name, raw_table_name
from matching.standardize import first_name_canonical, name
from orchestration.runner import run_pipeline

pytestmark = pytest.mark.e2e


@dataclass
class DemoRun:
    config: E360Config
    data: DemoSummary
    first: RunReport
    second: RunReport
    xref_after_first: dict[str, dict[str, str]]

    @property
    def lake(self) -> Lake:
        return Lake.from_config(self.config)


def _xrefs(lake: Lake) -> dict[str, dict[str, str]]:
    out = {}
    for entity in ("customer", "product"):
        table = lake.read("master", master_table_name(entity, "xref")).to_pylist()
        out[entity] = {row["record_id"]: row["master_id"] for row in table}
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path) -> DemoRun:
    root = tmp_path_factory.mktemp("demo")
    config = load_config(demo_config_path, overrides={"project.root": str(root)}, environ={})
    data = generate_demo_data(root, customers=400, seed=7)
    first = run_pipeline(config)
    xref_after_first = _xrefs(Lake.from_config(config))
    second = run_pipeline(config)
    return DemoRun(config, data, first, second, xref_after_first)


def test_every_landing_row_is_landed_or_quarantined(demo: DemoRun) -> None:
    by_source = {r["source"]: r for r in demo.first.ingest}
    rows_generated = {path.split("/")[0]: n for path, n in demo.data.files.items()}
    for source, result in by_source.items():
        assert result["rows_in"] == rows_generated[source], source
        assert result["rows_in"] == result["landed"] + result["quarantined"], source
    # The generator plants malformed rows in crm and ecommerce; each is quarantined.
    assert by_source["crm"]["quarantined"] == 3
    assert by_source["ecommerce"]["quarantined"] == 3
    lake = demo.lake
    for source, result in by_source.items():
        raw = lake.read("raw", raw_table_name(source, demo.config.sources[source]))
        assert raw.num_rows == result["landed"], source
    reasons = {r["_reason"] for r in lake.read("quarantine", "crm").to_pylist()}
    assert "missing key column 'customer_id'" in reasons
    assert any(reason.startswith("row has") for reason in reasons)


def test_a_rerun_lands_nothing_twice_and_keeps_every_master_id(demo: DemoRun) -> None:
    assert all(r["landed"] == 0 and r["files_skipped"] == 1 for r in demo.second.ingest)
    for entity in ("customer", "product"):
        summary = demo.second.entities[entity]
        assert summary["model_trained"] is False
        assert summary["model_version"] == demo.first.entities[entity]["model_version"]
        assert summary["id_churn"] == 0.0
    assert _xrefs(demo.lake) == demo.xref_after_first


@pytest.mark.parametrize("entity", ["customer", "product"])
def test_every_source_record_has_exactly_one_master(demo: DemoRun, entity: str) -> None:
    lake = demo.lake
    standardized = lake.read("standardized", entity).column("record_id").to_pylist()
    xref = lake.read("master", master_table_name(entity, "xref")).to_pylist()
    golden = lake.read("master", master_table_name(entity, "golden")).to_pylist()
    assert sorted(r["record_id"] for r in xref) == sorted(standardized)
    assert len(standardized) == len(set(standardized))
    golden_ids = [g["master_id"] for g in golden]
    assert len(golden_ids) == len(set(golden_ids))
    assert set(golden_ids) == {r["master_id"] for r in xref}
    prefix = demo.config.id_prefix(entity) + "-"
    assert all(m.startswith(prefix) and len(m) == len(prefix) + 26 for m in golden_ids)
    members = {}
    for row in xref:
        members[row["master_id"]] = members.get(row["master_id"], 0) + 1
    assert all(g["member_count"] == members[g["master_id"]] for g in golden)
    # Provenance names a member of the same master for every surviving value.
    owner = {r["record_id"]: r["master_id"] for r in xref}
    for g in golden[:50]:
        for attribute, origin in json.loads(g["provenance"]).items():
            if origin is not None:
                assert owner[origin["record_id"]] == g["master_id"], attribute
                assert g[attribute] is not None


def test_events_carry_master_ids(demo: DemoRun) -> None:
    lake = demo.lake
    events = lake.read("conformed", "events").to_pylist()
    customers = _xrefs(lake)["customer"]
    products = _xrefs(lake)["product"]
    assert len(events) == sum(
        r["landed"] for r in demo.first.ingest if demo.config.sources[r["source"]].entity == "event"
    )
    for event in events:
        if event["customer_master_id"] is not None:
            assert customers[event["customer_ref"]] == event["customer_master_id"]
        if event["product_master_id"] is not None:
            assert products[event["product_ref"]] == event["product_master_id"]
    # The demo's feeds name only records that land: every reference resolves, none is rejected.
    assert all(e["customer_master_id"] is not None for e in events)
    assert all(e["product_master_id"] is not None for e in events)
    assert lake.read("conformed", "event_rejects").num_rows == 0
    for counts in demo.first.events:
        assert counts["records"] == counts["conformed"] and counts["rejected"] == 0
        assert counts["unresolved_customer"] == counts["unresolved_product"] == 0
    assert {e["event_type"] for e in events} == {
        "purchase",
        "order_cancelled",
        "product_view",
        "add_to_cart",
    }


@pytest.mark.parametrize("entity", ["customer", "product"])
def test_the_review_queue_holds_the_configured_band(demo: DemoRun, entity: str) -> None:
    low, high = demo.config.entities[entity].matching.review_band
    queue = demo.lake.read("master", master_table_name(entity, "review_queue")).to_pylist()
    pairs = demo.lake.read("master", master_table_name(entity, "pairs")).to_pylist()
    in_band = {
        (p["record_id_l"], p["record_id_r"]) for p in pairs if low <= p["match_probability"] < high
    }
    assert {(q["record_id_l"], q["record_id_r"]) for q in queue} == in_band
    # 400 demo customers leave hardly a customer pair in doubt; their products always some.
    if entity == "product":
        assert queue, "the demo data has borderline product pairs"


def test_the_enterprise_layer_is_published_and_its_tests_pass(demo: DemoRun) -> None:
    dbt = demo.first.publish["dbt"]
    assert dbt["tests_failed"] == 0 and dbt["tests_passed"] >= 20 and dbt["failures"] == []
    assert demo.first.checks and all(check["passed"] for check in demo.first.checks.values())
    # dbt-duckdb keeps its in-process connection open, so open with the same settings.
    con = duckdb.connect(str(demo.config.warehouse_path))
    masters = demo.first.entities
    assert (
        con.sql("select count(*) from enterprise.dim_customer").fetchall()[0][0]
        == (masters["customer"]["masters"])
    )
    assert (
        con.sql("select count(*) from enterprise.dim_product").fetchall()[0][0]
        == (masters["product"]["masters"])
    )
    orphans = con.sql(
        "select count(*) from enterprise.fct_events f left join enterprise.dim_customer d "
        "using (customer_master_id) where f.customer_master_id is not null "
        "and d.customer_master_id is null"
    ).fetchall()[0][0]
    assert orphans == 0
    con.close()


def test_dim_customer_shows_names_as_the_crm_wrote_them(demo: DemoRun) -> None:
    # The CRM's own rows: every name the CRM supplied to a golden record reads in
    # dim_customer as the CRM wrote it (accents and case kept, whitespace trimmed), while
    # the golden record matched on its folded form.
    raw = demo.lake.read("raw", raw_table_name("crm", demo.config.sources["crm"])).to_pylist()
    written = {f"crm:{r['customer_id'].strip()}": r for r in raw}
    golden = {
        g["master_id"]: g
        for g in demo.lake.read("master", master_table_name("customer", "golden")).to_pylist()
    }
    con = duckdb.connect(str(demo.config.warehouse_path))
    try:
        dim = con.sql(
            "select customer_master_id, first_name, last_name, provenance "
            "from enterprise.dim_customer"
        ).fetchall()
    finally:
        con.close()
    checked, accented = 0, []
    for master_id, first_name, last_name, provenance in dim:
        origin = json.loads(provenance)
        for attribute, shown in (("first_name", first_name), ("last_name", last_name)):
            record_id = (origin[attribute] or {}).get("record_id", "")
            if not record_id.startswith("crm:"):
                continue
            assert shown == " ".join(written[record_id][attribute].split()), (master_id, shown)
            folded = first_name_canonical(shown) if attribute == "first_name" else name(shown)
            assert golden[master_id][attribute] == folded  # matched on its folded form
            checked += 1
            if not shown.isascii():
                accented.append(shown)
    assert checked > 200
    assert accented, "the demo CRM writes accented names (José)"
    assert any(n[0].isupper() and not n.isupper() for n in accented)


def test_the_report_scores_matching_against_the_truth(demo: DemoRun) -> None:
    report = json.loads((demo.config.runs_dir / demo.first.run_id / "report.json").read_text())
    assert report["status"] == "succeeded"
    assert set(report["timings"]) == {"ingest", "standardize", "match", "publish"}
    customer = report["evaluation"]["customer"]["pairwise"]
    product = report["evaluation"]["product"]["pairwise"]
    assert customer["f1"] >= 0.9, customer
    assert product["f1"] >= 0.8, product
