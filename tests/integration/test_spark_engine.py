"""Splink on Spark (local mode): the production engine gives the same masters as DuckDB."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from e360.config import load_config
from e360.demo_data import generate_demo_data
from e360.lake import Lake
from matching.resolve import PreviousRun, resolve
from orchestration.runner import run_pipeline

pytestmark = pytest.mark.spark
SPARK_CONF = {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4"}


def _partition(clusters) -> set[frozenset[str]]:
    members = defaultdict(set)
    for row in clusters.to_pylist():
        members[row["cluster_id"]].add(row["record_id"])
    return {frozenset(m) for m in members.values()}


def test_spark_and_duckdb_score_and_cluster_alike(tmp_path: Path, demo_config_path: Path) -> None:
    root = {"project.root": str(tmp_path)}
    config = load_config(demo_config_path, overrides=root, environ={})
    generate_demo_data(tmp_path, customers=120, seed=11)
    run_pipeline(config, ["ingest", "standardize"])
    records = Lake.from_config(config).read("standardized", "customer")

    on_duckdb = resolve(config, "customer", records)
    spark_config = load_config(
        demo_config_path,
        overrides={
            **root,
            "deployment.engine": {
                "type": "spark",
                "spark_conf": {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4"},
            },
        },
        environ={},
    )
    on_spark = resolve(spark_config, "customer", records)

    assert on_duckdb.trained and not on_spark.trained  # Spark runs the model DuckDB trained
    assert on_spark.model == on_duckdb.model
    assert _partition(on_spark.clusters) == _partition(on_duckdb.clusters)
    duck_pairs = {
        (r["record_id_l"], r["record_id_r"]): r["match_probability"]
        for r in on_duckdb.pairs.to_pylist()
    }
    spark_pairs = {
        (r["record_id_l"], r["record_id_r"]): r["match_probability"]
        for r in on_spark.pairs.to_pylist()
    }
    assert spark_pairs.keys() == duck_pairs.keys()
    assert all(abs(spark_pairs[k] - duck_pairs[k]) < 1e-6 for k in duck_pairs)


def test_an_incremental_run_on_spark_equals_a_full_run_on_duckdb(
    tmp_path: Path, demo_config_path: Path
) -> None:
    root = {"project.root": str(tmp_path)}
    config = load_config(demo_config_path, overrides=root, environ={})
    generate_demo_data(tmp_path, customers=120, seed=5)
    run_pipeline(config, ["ingest", "standardize"])
    records = Lake.from_config(config).read("standardized", "customer")
    ids = records["record_id"].to_pylist()
    first = records.filter(pc.is_in(records["record_id"], pa.array(ids[: len(ids) * 9 // 10])))
    base = resolve(config, "customer", first)
    previous = PreviousRun(
        scores=base.scores,
        hashes=dict(
            zip(*(base.hashes[c].to_pylist() for c in base.hashes.column_names), strict=True)
        ),
        masters=dict(
            zip(*(base.clusters[c].to_pylist() for c in ("record_id", "cluster_id")), strict=True)
        ),
        scoring_key=base.scoring_key,
        clustering_key=base.clustering_key,
    )
    spark_config = load_config(
        demo_config_path,
        overrides={**root, "deployment.engine": {"type": "spark", "spark_conf": SPARK_CONF}},
        environ={},
    )
    incremental = resolve(spark_config, "customer", records, previous=previous)
    full = resolve(config, "customer", records)
    assert incremental.mode == "incremental" and full.mode == "full"
    assert incremental.rescored_records == len(ids) - first.num_rows
    assert _partition(incremental.clusters) == _partition(full.clusters)
