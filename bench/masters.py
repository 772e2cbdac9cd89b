"""The master zone's "masters" step before (per-record Python dicts, DuckDB on a private
connection; commit 80f40a9) and after (SQL on the configured dataflow), in one process.

    .venv/bin/python -m bench.masters [customers]

Generates the demo, standardizes and resolves the customers once, then runs each version's
step (assign master ids, xref, golden, pairs, review queue; no lake writes) on a first run
(no previous masters) and a rerun (the first run's masters as previous), alternating.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import types
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from bench.run import DEMO_CONFIG, PeakMemory
from demo import generate_demo_data
from e360.config import E360Config, load_config
from e360.entities import CANONICAL_ATTRIBUTES, MasteredEntity
from e360.lake import Lake
from e360.zones import display_columns
from ingestion.batch import ingest_source
from matching.mastering.zone import master_zone, release
from matching.resolution.engine import dataflow_for
from matching.resolution.resolve import Resolution, resolve
from matching.standardize.zone import build_standardized

BEFORE = "80f40a9"
ENTITY: MasteredEntity = "customer"
REPO = Path(__file__).resolve().parent.parent


def _old_module(name: str, path: str, replace: dict[str, str]) -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:{path}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    for old, new in replace.items():
        source = source.replace(old, new)
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"{BEFORE}:{path}", "exec"), module.__dict__)
    return module


def _old_masters() -> types.ModuleType:
    _old_module("old_survivorship", "matching/mastering/survivorship.py", {})
    return _old_module(
        "old_masters",
        "matching/mastering/masters.py",
        {"matching.mastering.survivorship": "old_survivorship"},
    )


def old_step(
    old: types.ModuleType,
    config: E360Config,
    records: pa.Table,
    resolution: Resolution,
    previous_masters: pa.Table | None,
) -> dict[str, str]:
    """The masters step as `_match_entity` ran it before (lines between its two timers),
    with the dict `previous_run` / `record_masters` made of the last xref."""
    now = datetime.now(UTC).replace(tzinfo=None)
    previous = (
        {}
        if previous_masters is None
        else dict(
            zip(
                previous_masters.column("record_id").to_pylist(),
                previous_masters.column("master_id").to_pylist(),
                strict=True,
            )
        )
    )
    clusters = dict(
        zip(
            resolution.clusters.column("record_id").to_pylist(),
            resolution.clusters.column("cluster_id").to_pylist(),
            strict=True,
        )
    )
    ids = old.assign_master_ids(clusters, previous, config.id_prefix(ENTITY))
    assigned = {r: ids.master_of_cluster[c] for r, c in clusters.items()}
    con = duckdb.connect()
    try:
        con.register("standardized_records", records)
        con.register(
            "record_masters",
            pa.table(
                {
                    "record_id": pa.array(list(assigned), pa.string()),
                    "master_id": pa.array(list(assigned.values()), pa.string()),
                }
            ),
        )
        con.execute(
            "create temp table standardized_members as select s.*, m.master_id "
            "from standardized_records s join record_masters m using (record_id)"
        )
        con.execute(
            "create temp view members as "
            "select record_id, source, source_key, master_id from standardized_members"
        )
        con.register("pairs", resolution.pairs)
        threshold = resolution.threshold.value if resolution.threshold else 1.0
        old.xref_table(con, threshold=threshold, run_id="r", at=now)
        old.golden_table(
            con,
            CANONICAL_ATTRIBUTES[ENTITY],
            config.entities[ENTITY].survivorship,
            run_id="r",
            displays=display_columns(ENTITY),
        )
        band = resolution.review_band or config.entities[ENTITY].matching.review_band
        old.pairs_tables(con, band, run_id="r", at=now, previous_queue=None)
        old.id_history_table(ids.events, "r", now)
    finally:
        con.close()
    return assigned


def new_step(
    config: E360Config, records: pa.Table, resolution: Resolution, previous: pa.Table | None
) -> pa.Table:
    flow = dataflow_for(config.deployment.engine, config.root)
    try:
        zone = master_zone(
            flow,
            config,
            ENTITY,
            records=records,
            clusters=resolution.clusters,
            previous_masters=previous,
            pairs=resolution.pairs,
            threshold=resolution.threshold.value if resolution.threshold else 1.0,
            review_band=resolution.review_band or config.entities[ENTITY].matching.review_band,
            run_id="r",
            at=datetime.now(UTC).replace(tzinfo=None),
            previous_queue=None,
        )
    finally:
        release(flow)
    return zone.record_masters


def _measure(memory: PeakMemory, step: Callable[[], Any]) -> tuple[Any, float, float, float]:
    memory.reset()
    start_mb = memory.peak_mb
    started = time.perf_counter()
    result = step()
    return result, time.perf_counter() - started, memory.peak_mb, memory.peak_mb - start_mb


def main(customers: int) -> None:
    root = Path(tempfile.gettempdir()) / f"e360-bench-masters-{customers}"
    config = load_config(DEMO_CONFIG, overrides={"project.root": str(root)}, environ={})
    if not (root / "landing").exists():
        generate_demo_data(root, customers=customers, seed=42)
    lake = Lake.from_config(config)
    records = lake.read("standardized", ENTITY)
    if records is None:
        for name, source in config.sources_of(ENTITY).items():
            ingest_source(lake, name, source, config.landing_dir, "b1")
        records = build_standardized(config, lake, ENTITY)
    shown = [c for c in display_columns(ENTITY).values() if c in records.column_names]
    resolution = resolve(config, ENTITY, records.drop_columns(shown))
    old = _old_masters()
    memory = PeakMemory()
    print(f"{records.num_rows:,} customer records, {resolution.pairs.num_rows:,} pairs")
    print("run | version | seconds | peak RSS MiB | peak above step start MiB")
    first_old, *old_first = _measure(
        memory, lambda: old_step(old, config, records, resolution, None)
    )
    print("first | before |", " | ".join(f"{v:.1f}" for v in old_first))
    first_new, *new_first = _measure(memory, lambda: new_step(config, records, resolution, None))
    print("first | after |", " | ".join(f"{v:.1f}" for v in new_first))
    # The rerun's previous masters: each version's own first run, as it would read them.
    old_xref = pa.table({"record_id": list(first_old), "master_id": list(first_old.values())})
    del first_old
    _, *old_again = _measure(memory, lambda: old_step(old, config, records, resolution, old_xref))
    print("rerun | before |", " | ".join(f"{v:.1f}" for v in old_again))
    _, *new_again = _measure(memory, lambda: new_step(config, records, resolution, first_new))
    print("rerun | after |", " | ".join(f"{v:.1f}" for v in new_again))
    memory.close()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
