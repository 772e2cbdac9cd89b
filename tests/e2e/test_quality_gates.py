"""Failed checks stop the line: nothing downstream runs and the warehouse keeps what it had."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from demo import generate_demo_data
from e360.config import load_config
from e360.lake import Lake
from e360.report import RunReport
from orchestration.runner import RunFailed, run_pipeline

pytestmark = pytest.mark.e2e


def _config(root: Path, demo_config_path: Path, **overrides):
    return load_config(
        demo_config_path,
        overrides={"project.root": str(root), "quality.max_quarantine_rate": 0.2, **overrides},
        environ={},
    )


def _warehouse_counts(path: Path) -> dict[str, int]:
    con = duckdb.connect(str(path))
    try:
        return {
            table: con.sql(f"select count(*) from {table}").fetchall()[0][0]
            for table in ("enterprise.dim_customer", "enterprise.fct_events", "e360_lake.events")
        }
    finally:
        con.close()


def test_a_failed_gate_check_blocks_publish_and_keeps_the_warehouse(
    tmp_path: Path, demo_config_path: Path
) -> None:
    config = _config(tmp_path, demo_config_path)
    generate_demo_data(tmp_path, customers=80, seed=5)
    run_pipeline(config)
    before = _warehouse_counts(config.warehouse_path)

    # Corrupt the master zone: an event claims a customer master its reference does not have.
    lake = Lake.from_config(config)
    events = lake.read("conformed", "events").to_pylist()
    tampered = next(e for e in events if e["customer_master_id"] is not None)
    tampered["customer_master_id"] = "CUS-NOT-A-MASTER"
    events.append({**tampered, "event_id": "webshop:extra"})
    lake.replace(
        "conformed", "events", pa.Table.from_pylist(events, lake.read("conformed", "events").schema)
    )

    with pytest.raises(RunFailed, match="referential_integrity") as failure:
        run_pipeline(config, ["publish"])
    report = RunReport.read(failure.value.report_path)
    assert report.status == "failed"
    assert report.checks["publish_gate:referential_integrity"]["passed"] is False
    assert "dbt" not in report.publish and "loaded" not in report.publish
    assert _warehouse_counts(config.warehouse_path) == before


def test_a_quarantine_breach_stops_everything_downstream(
    tmp_path: Path, demo_config_path: Path
) -> None:
    config = _config(tmp_path, demo_config_path, **{"quality.max_quarantine_rate": 0.0})
    generate_demo_data(tmp_path, customers=60, seed=5)
    with pytest.raises(RunFailed, match="quarantine_rate") as failure:
        run_pipeline(config)
    report = failure.value.report
    assert report.checks["raw/crm:quarantine_rate"]["passed"] is False
    assert report.checks["raw/erp:quarantine_rate"]["passed"] is True
    # crm landed (the check judges what landed) but nothing was built on it; products, which
    # do not depend on it, went on; nothing at all was published.
    assert {r["source"] for r in report.ingest} >= {"crm", "ecommerce", "erp"}
    assert "customer" not in report.standardized and "customer" not in report.entities
    assert "product" in report.entities
    assert report.events == [] and report.publish == {}
    assert not config.warehouse_path.exists()


def test_a_failed_step_is_re_executed_alone(
    tmp_path: Path, demo_config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.assets import standardization
    from orchestration.runner import rerun_from_failure

    config = _config(tmp_path, demo_config_path)
    generate_demo_data(tmp_path, customers=60, seed=9)
    real = standardization.build_standardized

    def broken_for_products(config, lake, entity, on_progress=None, **engine):
        if entity == "product":
            raise OSError("simulated outage while writing standardized.product")
        return real(config, lake, entity, on_progress, **engine)

    monkeypatch.setattr(standardization, "build_standardized", broken_for_products)
    with pytest.raises(RunFailed, match="simulated outage") as failure:
        run_pipeline(config)
    first = failure.value.report
    assert "customer" in first.entities and "product" not in first.entities
    assert first.publish == {}

    monkeypatch.setattr(standardization, "build_standardized", real)
    second = rerun_from_failure(config, first.run_id)
    assert second.status == "succeeded"
    # Only the failed step and what depends on it ran again: no ingest, no customer matching.
    assert second.ingest == [] and "customer" not in second.entities
    assert set(second.standardized) == {"product"} and "product" in second.entities
    assert second.publish["dbt"]["tests_failed"] == 0
