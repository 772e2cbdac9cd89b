"""Splink on Spark (local mode): the production engine gives the same masters as DuckDB."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from demo import generate_demo_data
from e360.config import load_config
from e360.lake import Lake
from matching.resolution.resolve import PreviousRun, resolve
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
        hashes=base.hashes,
        masters=base.clusters.rename_columns(["record_id", "master_id"]),
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


def _levels(comparison, rows: list[dict], run) -> list[int]:
    """The level (position, 0 = null level) each pair row falls in, Splink's conditions in order."""
    conditions = [lvl.sql_condition for lvl in comparison.comparison_levels]
    whens = " ".join(f"when {c} then {i}" for i, c in enumerate(conditions[:-1]))
    return run(f"select case {whens} else {len(conditions) - 1} end as level from pairs", rows)


def test_customer_comparison_levels_run_on_spark_as_on_duckdb(tmp_path: Path) -> None:
    import datetime as dt

    import duckdb

    from e360.config import EngineSettings
    from matching.resolution.customer_comparisons import (
        address,
        birth_date,
        company_name,
        person_name,
    )
    from matching.resolution.engine import backend_for

    spark = backend_for(EngineSettings(type="spark", spark_conf=SPARK_CONF), tmp_path).spark
    day = dt.date.fromisoformat
    cases = {
        "names": (
            person_name("first_name", "last_name", "first_name_phonetic"),
            [("john", "smith", "JN", "john", "smith", "JN"), ("jonathan", "smith", "JN0N",
              "jonathon", "smith", "JN0N"), ("catherine", "li", "K0RN", "kathryn", "li", "K0RN"),
             ("john", "smith", "JN", "smith", "john", "SM0"), ("john", "li", "JN", "mary", "li", "MR")],
            ["first_name", "last_name", "first_name_phonetic"],
            [1, 2, 3, 4, 7],
        ),
        "dates": (
            birth_date("dob"),
            [(day("1980-03-04"), day("1980-03-04")), (day("1980-03-04"), day("1980-04-03")),
             (day("1980-03-04"), day("1908-03-04")), (day("1980-03-04"), day("1980-11-20")),
             (day("1980-03-04"), day("1990-07-09")), (day("1980-03-04"), None)],
            ["dob"],
            [1, 2, 3, 4, 5, 0],
        ),
        "address": (
            address("address_line1", "postcode", "city", "postcode_area"),
            [("1 high st", "2615", "kaleen", "261", "1 high st", "2615", "kaleen", "261"),
             ("1 high st", "2615", "kaleen", "261", "1 hihg st", "2616", "kaleen", "261"),
             ("1 high st", "2615", "kaleen", "261", "1 high st", "4000", "cairns", "400"),
             ("1 high st", "2615", "kaleen", "261", "9 low rd", "2615", "kaleen", "261"),
             ("1 high st", "2615", "kaleen", "261", "9 low rd", "2617", "bruce", "261"),
             ("1 high st", "2615", "kaleen", "261", "9 low rd", "4870", "cairns", "487"),
             (None, "2615", None, "261", None, "2615", None, "261")],
            ["address_line1", "postcode", "city", "postcode_area"],
            [1, 2, 3, 4, 5, 6, 4],
        ),
        "company": (
            company_name("company_name", "company_name_tokens"),
            [("acme", "acme", "acme", "acme"), ("apple pan", "apple pan", "pan apple", "apple pan"),
             ("second street grille", "grille second street", "second street grill",
              "grill second street"),
             ("ritz carlton cafe buckhead", "buckhead cafe carlton ritz", "cafe ritz carlton",
              "cafe carlton ritz"), ("acme", "acme", "zenith bakery", "bakery zenith")],
            ["company_name", "company_name_tokens"],
            [1, 2, 3, 4, 6],
        ),
    }  # fmt: skip

    def duckdb_run(sql: str, rows: list[dict]) -> list[int]:
        con = duckdb.connect()
        con.register("pairs", pa.Table.from_pylist(rows))
        return [row[0] for row in con.execute(sql).fetchall()]

    def spark_run(sql: str, rows: list[dict]) -> list[int]:
        spark.createDataFrame(pa.Table.from_pylist(rows).to_pandas()).createOrReplaceTempView(
            "pairs"
        )
        return [row["level"] for row in spark.sql(sql).collect()]

    for name, (creator, values, columns, expected) in cases.items():
        names = [f"{c}_l" for c in columns] + [f"{c}_r" for c in columns]
        rows = [dict(zip(names, row, strict=True)) for row in values]
        on_duckdb = _levels(creator.get_comparison("duckdb"), rows, duckdb_run)
        on_spark = _levels(creator.get_comparison("spark"), rows, spark_run)
        assert on_duckdb == expected, name
        assert on_spark == on_duckdb, name
