"""Concurrency faults through real `e360` processes: the project lock and Dagster's storage.

Two ingests of one new file land it once; a process that cannot get the lock in time exits
with one line naming the holder; a lock left by a killed process is taken over; two first
runs on a fresh project leave Dagster's storage usable.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import yaml

from e360.config import load_config
from e360.lake import Lake
from e360.locks import read_holder

BIN = Path(sys.executable).parent
E360 = str(BIN / "e360")
CRM_COLUMNS = ["customer_id", "first_name", "last_name", "email", "zip", "updated_at"]
DEADLINE = 300  # seconds: generous, a loaded 2-core machine starts Python slowly


def _project(tmp_path: Path, demo_config_path: Path, **deployment: object) -> Path:
    data = yaml.safe_load(demo_config_path.read_text())
    data["project"]["root"] = str(tmp_path)
    data["deployment"].update(deployment)
    # Only the columns these tests write: a mapped column a file lacks stops the source.
    data["sources"]["crm"]["mapping"] = {
        "first_name": "first_name",
        "last_name": "last_name",
        "email": "email",
        "postcode": "zip",
    }
    config = tmp_path / "e360.yaml"
    config.write_text(yaml.safe_dump(data))
    return config


def _write_crm(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "landing" / "crm" / "crm_new.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CRM_COLUMNS)
        for i in range(rows):
            writer.writerow(
                [f"C{i:07d}", f"Ann{i}", f"Smith{i % 97}", f"a{i}@x.org", "AB1 2CD", "01/02/2024"]
            )
    return path


def _ingest(config: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [E360, "ingest", "--config", str(config), "--source", "crm", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # dagster-dbt looks dbt up on PATH: the environment's own
        env={**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **(env or {})},
    )


def _finish(process: subprocess.Popen) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=DEADLINE)
    return process.returncode, out, err


def _raw_keys(config: Path) -> list[str]:
    table = Lake.from_config(load_config(config)).read("raw", "crm__customer")
    return [] if table is None else table.column("customer_id").to_pylist()


def _wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _holder_process(lock_file: Path) -> subprocess.Popen:
    """A real process holding the project lock until killed."""
    code = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from e360.locks import project_lock\n"
        "with project_lock(Path(sys.argv[1]), command='holder'):\n"
        "    print('held', flush=True)\n"
        "    while True: time.sleep(1)\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code, str(lock_file)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "held"
    return process


def test_two_ingests_started_together_land_a_new_file_once(
    tmp_path: Path, demo_config_path: Path
) -> None:
    config = _project(tmp_path, demo_config_path)
    rows = 5_000  # landing takes seconds: both processes are in it together
    _write_crm(tmp_path, rows)
    first, second = _ingest(config), _ingest(config)
    results = [_finish(first), _finish(second)]
    assert [code for code, _, _ in results] == [0, 0], results
    keys = _raw_keys(config)
    # Whichever got the lock second found the file landed and landed nothing.
    assert len(keys) == rows and len(set(keys)) == rows
    versions = _alembic_versions(tmp_path / ".dagster")
    assert versions == dict.fromkeys(versions, 1)


def test_a_process_that_cannot_get_the_lock_exits_naming_the_holder(
    tmp_path: Path, demo_config_path: Path
) -> None:
    config = _project(tmp_path, demo_config_path, lock={"wait_seconds": 1})
    _write_crm(tmp_path, 50)
    lock_file = load_config(config).lock_file
    holder = _holder_process(lock_file)
    try:
        code, _, err = _finish(_ingest(config))
    finally:
        holder.kill()
        holder.wait()
    assert code == 1
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err
    assert f"held by pid {holder.pid}" in lines[0] and "holder" in lines[0]
    assert "deployment.lock.wait_seconds" in lines[0]
    assert _raw_keys(config) == []
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").iterdir())


def test_a_lock_left_by_a_killed_process_is_taken_over(
    tmp_path: Path, demo_config_path: Path
) -> None:
    config = _project(tmp_path, demo_config_path)
    _write_crm(tmp_path, 50)
    lock_file = load_config(config).lock_file
    holder = _holder_process(lock_file)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    left = read_holder(lock_file)
    assert left is not None and left.pid == holder.pid and left.is_dead()
    code, _, err = _finish(_ingest(config))
    assert code == 0, err
    assert f"took over a stale project lock {lock_file} from pid {holder.pid}" in err
    assert len(_raw_keys(config)) == 50
    assert read_holder(lock_file) is None  # released cleanly


STORAGE_USER = """
import sys, time
from pathlib import Path
from e360.config import load_config
ready, everyone = Path(sys.argv[2]), int(sys.argv[3])
ready.touch()
while len(list(ready.parent.glob("ready-*"))) < everyone:  # start together
    time.sleep(0.01)
import dagster as dg
from orchestration.storage import dagster_home
with dg.DagsterInstance.from_config(str(dagster_home(load_config(sys.argv[1])))) as instance:
    instance.get_runs(limit=1)
    instance.get_asset_keys()
    instance.schedule_storage.all_instigator_state()
"""


def _alembic_versions(home: Path) -> dict[str, int]:
    import sqlite3

    counts = {}
    for db in ("history/runs.db", "history/runs/index.db", "schedules/schedules.db"):
        with sqlite3.connect(home / db) as con:
            counts[db] = con.execute("select count(*) from alembic_version").fetchone()[0]
    return counts


def test_first_runs_started_together_create_dagster_storage_once(
    tmp_path: Path, demo_config_path: Path
) -> None:
    """Processes creating a fresh project's Dagster storage at once (unguarded, 3 of 3 trials
    here stamped two alembic heads into one database, and every later run failed)."""
    config = _project(tmp_path, demo_config_path)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    everyone = 4
    command = [sys.executable, "-c", STORAGE_USER, str(config)]
    processes = [
        subprocess.Popen(
            [*command, str(barrier / f"ready-{i}"), str(everyone)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(everyone)
    ]
    errors = [p.communicate(timeout=DEADLINE)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * everyone, errors
    versions = _alembic_versions(tmp_path / ".dagster")
    assert versions == dict.fromkeys(versions, 1)
