"""The whole dataflow on Spark local mode gives what it gives on DuckDB, row by row: the
standardized records, the masters (xref, golden records, id history) and the conformed events.

Both projects land the same generated sources; the Spark project is given the model the DuckDB
run trained (EM's random sampling differs between engines; a run reuses a stored model), so
every difference left is one of the dataflow.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pytest

from demo import generate_demo_data
from e360.config import E360Config, load_config
from e360.lake import Lake
from e360.zones import CONFORMED_EVENT_REJECTS, CONFORMED_EVENTS, master_table_name
from orchestration.runner import run_pipeline

pytestmark = pytest.mark.spark
SPARK_CONF = {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4"}
# Written per run or per process: when, by which run, under which generated id.
VOLATILE = {
    "run_id",
    "assigned_at",
    "first_seen_at",
    "created_at",
    "updated_at",
    "queued_at",
    "matched_at",
}


def _config(demo_config_path: Path, root: Path, engine: dict[str, object]) -> E360Config:
    return load_config(
        demo_config_path,
        overrides={"project.root": str(root), "deployment.engine": engine},
        environ={},
    )


@pytest.fixture(scope="module")
def lakes(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path) -> tuple[Lake, Lake]:
    duck_root = tmp_path_factory.mktemp("duckdb")
    spark_root = tmp_path_factory.mktemp("spark")
    for root in (duck_root, spark_root):
        generate_demo_data(root, customers=150, seed=21)
    duck = _config(demo_config_path, duck_root, {"type": "duckdb"})
    spark = _config(demo_config_path, spark_root, {"type": "spark", "spark_conf": SPARK_CONF})
    stages = ["ingest", "standardize", "match"]
    run_pipeline(duck, stages)
    shutil.copytree(duck.models_dir, spark.models_dir, dirs_exist_ok=True)
    run_pipeline(spark, stages)
    return Lake.from_config(duck), Lake.from_config(spark)


def _members(lake: Lake, entity: str) -> dict[str, str]:
    """master id -> the smallest record id among its members: a name both engines share."""
    xref = lake.read(
        "master", master_table_name(entity, "xref"), columns=("record_id", "master_id")
    )
    assert xref is not None
    names: dict[str, str] = {}
    for row in xref.to_pylist():
        master = row["master_id"]
        names[master] = min(names.get(master, row["record_id"]), row["record_id"])
    return names


def _rows(table: pa.Table | None, masters: dict[str, str], key: tuple[str, ...]) -> list[dict]:
    assert table is not None
    rows = []
    for row in table.to_pylist():
        kept = {}
        for column, value in row.items():
            if column in VOLATILE or column.startswith("_"):
                continue
            if column.endswith("master_id") and value is not None:
                value = masters.get(value, value)
            kept[column] = value
        rows.append(kept)
    return sorted(rows, key=lambda r: tuple(str(r.get(k)) for k in key))


def test_standardized_records_are_the_same(lakes: tuple[Lake, Lake]) -> None:
    duck, spark = lakes
    for entity in ("customer", "product"):
        key = ("record_id",)
        expected = _rows(duck.read("standardized", entity), {}, key)
        assert expected
        assert _rows(spark.read("standardized", entity), {}, key) == expected, entity


def test_masters_are_the_same(lakes: tuple[Lake, Lake]) -> None:
    duck, spark = lakes
    for entity in ("customer", "product"):
        duck_names, spark_names = _members(duck, entity), _members(spark, entity)
        assert sorted(duck_names.values()) == sorted(spark_names.values()), entity
        for table, key in (("xref", ("record_id",)), ("golden", ("master_id",))):
            name = master_table_name(entity, table)
            expected = _rows(duck.read("master", name), duck_names, key)
            assert expected
            assert _rows(spark.read("master", name), spark_names, key) == expected, name
        history = master_table_name(entity, "id_history")
        events = [
            Counter(lake.read("master", history, columns=("event",)).column(0).to_pylist())
            for lake in (duck, spark)
        ]
        assert events[0] == events[1] and events[0]["created"] == len(duck_names), entity


def test_conformed_events_are_the_same(lakes: tuple[Lake, Lake]) -> None:
    duck, spark = lakes
    masters = [{**_members(lake, "customer"), **_members(lake, "product")} for lake in lakes]
    for table, key in (
        (CONFORMED_EVENTS, ("event_id",)),
        (CONFORMED_EVENT_REJECTS, ("source", "source_key")),
    ):
        expected = _rows(duck.read("conformed", table), masters[0], key)
        assert expected or table == CONFORMED_EVENT_REJECTS
        assert _rows(spark.read("conformed", table), masters[1], key) == expected, table
