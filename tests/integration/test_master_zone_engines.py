"""The master zone as SQL: on a demo run and an incremental rerun its ids and id history are
the per-record reference's, and DuckDB and Spark (local) write the same master zone."""

from __future__ import annotations

import random
import shutil
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from services.master_ids import counting_ids, reference_assign_master_ids

from demo import generate_demo_data
from e360.config import E360Config, EngineSettings, load_config
from e360.lake import Lake
from e360.zones import display_columns, master_table_name
from ingestion.batch import ingest_source
from matching.mastering.zone import (
    MasterZone,
    master_zone,
    masters_by_record,
    match_entity,
    previous_run,
    release,
)
from matching.resolution.engine import dataflow_for
from matching.resolution.resolve import Resolution, resolve
from matching.standardize.zone import build_standardized
from stewardship.store import DecisionStore

ENTITY = "customer"


@pytest.fixture(scope="module")
def customers(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path) -> pa.Table:
    root = tmp_path_factory.mktemp("standardized")
    config = load_config(demo_config_path, overrides={"project.root": str(root)}, environ={})
    generate_demo_data(root, customers=150, seed=23)
    lake = Lake.from_config(config)
    for name, source in config.sources_of(ENTITY).items():
        ingest_source(lake, name, source, config.landing_dir, "b1")
    return build_standardized(config, lake, ENTITY)


def _project(root: Path, demo_config_path: Path) -> E360Config:
    shutil.rmtree(root, ignore_errors=True)
    overrides = {"project.root": str(root), "quality.max_id_churn": 1.0}
    return load_config(demo_config_path, overrides=overrides, environ={})


def _resolved(config: E360Config, records: pa.Table, lake: Lake) -> Resolution:
    """The resolution `match_entity` makes of `records` now (the lake's last run as base)."""
    shown = [c for c in display_columns(ENTITY).values() if c in records.column_names]
    return resolve(config, ENTITY, records.drop_columns(shown), previous=previous_run(lake, ENTITY))


def _by_record(table: pa.Table, column: str) -> dict[str, str]:
    return dict(zip(table["record_id"].to_pylist(), table[column].to_pylist(), strict=True))


def test_a_demo_run_and_an_incremental_rerun_assign_ids_as_the_reference(
    customers: pa.Table, tmp_path: Path, demo_config_path: Path
) -> None:
    config = _project(tmp_path / "p", demo_config_path)
    lake = Lake.from_config(config)
    lake.replace("standardized", ENTITY, customers)
    # Run 2 loses some records and sees others change: merges, splits and retirements.
    rng = random.Random(5)
    ids = customers["record_id"].to_pylist()
    kept = customers.filter(pc.is_in(customers["record_id"], pa.array(rng.sample(ids, 140))))
    emails = kept["email"].to_pylist()
    donors = [e for e in emails if e]
    changed = [rng.choice(donors) if rng.random() < 0.15 else e for e in emails]
    second = kept.set_column(kept.schema.get_field_index("email"), "email", pa.array(changed))
    # ...and a newcomer that resembles nobody (no attribute but its source): a new master.
    keep = {"source", "_batch_id", "_ingested_at"}
    newcomer = {
        f.name: pa.array(["crm:newcomer"]) if f.name == "record_id"
        else pa.array(["newcomer"]) if f.name == "source_key"
        else second[f.name].slice(0, 1) if f.name in keep
        else pa.nulls(1, f.type)
        for f in second.schema
    }  # fmt: skip
    second = pa.concat_tables([second, pa.table(newcomer, schema=second.schema)])

    bulk, single = counting_ids()  # one sequence over both runs: ids are never reused
    for run_id, records in (("r1", customers), ("r2", second)):
        lake.replace("standardized", ENTITY, records)
        before = previous_run(lake, ENTITY)
        masters_before = _by_record(before.masters, "master_id") if before else {}
        # The resolution the run will make (its model saved by the first one, the lake as the
        # run finds it), assigned by the reference with the same new ids.
        resolution = _resolved(config, records, lake)
        want = reference_assign_master_ids(
            _by_record(resolution.clusters, "cluster_id"), masters_before, single
        )
        with closing(DecisionStore.from_config(config)) as decisions:
            summary = match_entity(config, lake, ENTITY, run_id, decisions=decisions, new_ids=bulk)
        assert summary.written and summary.mode == ("full" if run_id == "r1" else "incremental")
        clusters = _by_record(resolution.clusters, "cluster_id")
        expected = {r: want.master_of_cluster[c] for r, c in clusters.items()}
        assert masters_by_record(summary.record_masters) == expected
        xref = lake.read("master", master_table_name(ENTITY, "xref"))
        assert _by_record(xref, "master_id") == expected
        history = lake.read("master", master_table_name(ENTITY, "id_history")).to_pylist()
        events = [
            (e["master_id"], e["event"], e["related_master_id"])
            for e in history
            if e["run_id"] == run_id
        ]
        assert events == want.events
        assert summary.id_churn == round(
            want.records_changed / want.records_carried if want.records_carried else 0.0, 6
        )
        if run_id == "r2":
            kinds = {e[1] for e in want.events}
            assert {"created", "retired"} <= kinds, kinds


SPARK = EngineSettings.model_validate(
    {
        "type": "spark",
        "spark_conf": {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4"},
    }
)
DUCKDB = EngineSettings.model_validate({"type": "duckdb"})


@pytest.mark.spark
def test_duckdb_and_spark_write_the_same_master_zone(
    customers: pa.Table, tmp_path: Path, demo_config_path: Path
) -> None:
    config = _project(tmp_path / "p", demo_config_path)
    shown = [c for c in display_columns(ENTITY).values() if c in customers.column_names]
    resolution = resolve(config, ENTITY, customers.drop_columns(shown))
    # A previous run unlike this one: members moved, records gone, ids that tie.
    rng = random.Random(9)
    clusters = _by_record(resolution.clusters, "cluster_id")
    labels = sorted(set(clusters.values()))
    previous = {
        r: f"CUS-P{(labels.index(c) if rng.random() < 0.8 else rng.randrange(len(labels))):05}"
        for r, c in clusters.items()
        if rng.random() < 0.9
    }
    previous |= {f"gone:{i}": f"CUS-G{i % 3}" for i in range(6)}
    pairs = resolution.pairs
    queued = pairs.slice(0, 5).select(["record_id_r", "record_id_l"])
    previous_queue = pa.table(
        {
            "record_id_l": queued["record_id_r"],
            "record_id_r": queued["record_id_l"],
            "queued_at": pa.array([datetime(2026, 1, 1)] * queued.num_rows, pa.timestamp("us")),
        }
    )
    threshold = resolution.threshold.value if resolution.threshold else 1.0

    def run(engine: EngineSettings) -> MasterZone:
        bulk, _ = counting_ids()
        flow = dataflow_for(engine, tmp_path)
        try:
            return master_zone(
                flow,
                config,
                ENTITY,
                records=customers,
                clusters=resolution.clusters,
                previous_masters=pa.table(
                    {"record_id": list(previous), "master_id": list(previous.values())}
                ),
                pairs=pairs,
                threshold=threshold,
                review_band=(0.05, 0.95),
                run_id="r1",
                at=datetime(2026, 2, 1, 8, 30),
                previous_queue=previous_queue,
                new_ids=bulk,
            )
        finally:
            release(flow)

    duck, spark = run(DUCKDB), run(SPARK)
    assert spark.ids.events.to_pylist() == duck.ids.events.to_pylist()
    kinds = set(duck.ids.events["event"].to_pylist())
    assert kinds == {"created", "merged_into", "split_from", "retired"}
    assert (spark.ids.records_carried, spark.ids.records_changed) == (
        duck.ids.records_carried,
        duck.ids.records_changed,
    )
    assert spark.record_masters.to_pylist() == duck.record_masters.to_pylist()
    for name in ("xref", "golden", "pairs", "queue"):
        on_spark, on_duck = getattr(spark, name), getattr(duck, name)
        assert on_duck.num_rows > 0, name
        assert on_spark.schema.equals(on_duck.schema), (name, on_spark.schema, on_duck.schema)
        assert on_spark.to_pylist() == on_duck.to_pylist(), name
    # and the events equal the per-record reference's
    _, single = counting_ids()
    want = reference_assign_master_ids(clusters, previous, single)
    events = [
        (e["master_id"], e["event"], e["related_master_id"]) for e in duck.ids.events.to_pylist()
    ]
    assert events == want.events
