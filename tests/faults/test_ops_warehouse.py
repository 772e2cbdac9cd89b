"""Publishing faults on DuckDB: readers of the warehouse file, and dbt runs that skip nodes."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import yaml

from demo import generate_demo_data
from e360.cli import main
from e360.config import load_config
from e360.resources import DBT_PROJECT_DIR
from e360.warehouse import environment
from e360.warehouse.dbt_runner import summarise_run_results

READER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1], read_only=True)
sql = "select count(*) from information_schema.tables where table_schema = 'enterprise'"
count = lambda: con.execute(sql).fetchone()[0]
print(count(), flush=True)
sys.stdin.readline()  # the publish happens meanwhile
print(count(), flush=True)
"""


def test_publish_swaps_in_a_new_warehouse_while_a_reader_holds_the_old_one(
    tmp_path: Path, demo_config_path: Path
) -> None:
    data = yaml.safe_load(demo_config_path.read_text())
    data["project"]["root"] = str(tmp_path)
    data["quality"] = {"max_quarantine_rate": 0.2}
    config_path = tmp_path / "e360.yaml"
    config_path.write_text(yaml.safe_dump(data))
    generate_demo_data(tmp_path, customers=60, seed=3)
    assert main(["ingest", "--config", str(config_path)]) == 0
    assert main(["match", "--config", str(config_path)]) == 0
    # A warehouse file someone reads: DuckDB locks it while the reader has it open.
    warehouse = load_config(config_path).warehouse_path
    warehouse.parent.mkdir(parents=True)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table notes as select 'kept' as note")

    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert reader.stdin is not None and reader.stdout is not None
    try:
        before = int(reader.stdout.readline())
        # The reader holds the file open (DuckDB locks it): publishing must not need it.
        assert main(["publish", "--config", str(config_path)]) == 0
        reader.stdin.write("\n")
        reader.stdin.flush()
        during = int(reader.stdout.readline())
    finally:
        reader.stdin.close()
        reader.wait(timeout=120)
    assert reader.returncode == 0
    # The reader kept its consistent old file; a new reader sees the published layer and
    # what the file held before.
    assert during == before == 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("select count(*) from enterprise.dim_customer").fetchone()[0] > 0
        assert con.execute("select note from notes").fetchall() == [("kept",)]
    assert not warehouse.with_name(warehouse.name + ".publishing").exists()
    assert not warehouse.with_name(warehouse.name + ".wal").exists()


def test_the_dbt_summary_counts_skipped_nodes_as_skipped_not_failed(tmp_path: Path) -> None:
    """A real dbt build on a warehouse without the lake schema: the first model errors and
    dbt skips everything downstream of it, tests included."""
    from dbt.cli.main import dbtRunner

    target = tmp_path / "target"
    at = "2026-01-01 00:00:00"
    with environment({"E360_DUCKDB_PATH": str(tmp_path / "empty.duckdb")}):
        dbtRunner().invoke(
            [
                "build",
                "--project-dir", str(DBT_PROJECT_DIR),
                "--profiles-dir", str(DBT_PROJECT_DIR),
                "--target-path", str(target),
                "--log-path", str(tmp_path / "logs"),
                "--quiet",
                "--select", "stg_e360_lake__customers+",
                "--vars", json.dumps({"e360_valid_at": at, "e360_as_of": at}),
            ]
        )  # fmt: skip
    results = json.loads((target / "run_results.json").read_text())
    statuses = Counter((r["unique_id"].split(".")[0], r["status"]) for r in results["results"])
    assert statuses[("model", "error")] == 1 and statuses[("test", "skipped")] > 10
    summary = summarise_run_results(results)
    assert summary["tests_failed"] == 0
    assert summary["tests_skipped"] == statuses[("test", "skipped")]
    assert summary["models"] == 0 and summary["models_skipped"] > 0
    assert len(summary["failures"]) == 1
    assert "stg_e360_lake__customers" in summary["failures"][0]


def test_a_failed_publish_leaves_the_published_file_and_the_next_starts_afresh(
    tmp_path: Path, demo_config_path: Path
) -> None:
    from e360.warehouse import staging

    config = load_config(demo_config_path, overrides={"project.root": str(tmp_path)}, environ={})
    published = config.warehouse_path
    published.parent.mkdir(parents=True)
    with duckdb.connect(str(published)) as con:
        con.execute("create table layer as select 1 as version")
    staged = staging.start(config)
    assert staged.warehouse_path == staging.staging_path(config) != published
    with duckdb.connect(str(staged.warehouse_path)) as con:
        con.execute("update layer set version = 2")
    # the build failed here: nothing renamed, the published file as it was
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select version from layer").fetchall() == [(1,)]
    # a re-executed build continues on its copy; a new publish starts from the published file
    assert staging.resume(config).warehouse_path == staged.warehouse_path
    with duckdb.connect(str(staging.resume(config).warehouse_path), read_only=True) as con:
        assert con.execute("select version from layer").fetchall() == [(2,)]
    fresh = staging.start(config)
    with duckdb.connect(str(fresh.warehouse_path)) as con:
        assert con.execute("select version from layer").fetchall() == [(1,)]
        con.execute("update layer set version = 3")
    staging.finish(config)
    with duckdb.connect(str(published), read_only=True) as con:
        assert con.execute("select version from layer").fetchall() == [(3,)]
    assert not staging.staging_path(config).exists()
