"""Standardisation with the UDFs in this process against UDF worker processes, in one process.

    .venv/bin/python -m bench.standardize [customers] [--work DIR] [--repeat N]

Generates the demo sources and ingests them once (kept under `--work`: a second call reuses
them), then builds each entity's standardized table alternately with
`deployment.engine.udf_workers: 0` and with the default (one worker per engine thread, fresh
workers each time), asserting both give the same rows; the standardisers' caches are emptied
before each build, so both start cold as a run's process does. Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import time
from pathlib import Path
from typing import Any

from bench.run import DEMO_CONFIG, overrides
from demo import generate_demo_data
from e360.config import load_config
from e360.dataflow import DuckDBDataflow
from e360.lake import Lake
from matching.resolution.engine import dataflow_for, udf_workers
from matching.standardize.zone import standardized_table
from orchestration.runner import run_pipeline

ENTITIES = ("customer", "product")


def _config(root: Path, workers: int | None) -> Any:
    values = overrides(root, "duckdb")
    if workers is not None:
        values["deployment.engine.udf_workers"] = workers
    return load_config(DEMO_CONFIG, overrides=values, environ={})


def _clear_caches() -> None:
    """Empty every functools cache of the standardisers (theirs warm up within a run)."""
    for value in gc.get_objects():
        if isinstance(value, functools._lru_cache_wrapper):
            value.cache_clear()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("customers", type=int, nargs="?", default=100_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/e360-bench-standardize"))
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    root = args.work / f"c{args.customers}"
    ingested = root / ".ingested"
    if not ingested.exists():
        generate_demo_data(root, customers=args.customers, seed=42)
        run_pipeline(_config(root, None), ["ingest"])
        ingested.touch()
    versions = {"in process": _config(root, 0), "workers": _config(root, None)}
    workers = udf_workers(versions["workers"].deployment.engine)
    seconds: dict[tuple[str, str], list[float]] = {}
    records: dict[str, int] = {}
    for _ in range(args.repeat):
        for entity in ENTITIES:
            tables = {}
            for name, config in versions.items():
                _clear_caches()  # each version starts cold, as a run's process does
                lake = Lake.from_config(config)
                flow = dataflow_for(config.deployment.engine, config.root)  # fresh workers
                started = time.perf_counter()
                tables[name] = standardized_table(flow, lake, entity, config.sources_of(entity))
                seconds.setdefault((entity, name), []).append(time.perf_counter() - started)
                assert isinstance(flow, DuckDBDataflow)
                flow.close()
            assert tables["in process"].equals(tables["workers"]), entity
            records[entity] = tables["workers"].num_rows
    print(
        f"{args.customers:,} demo customers, {os.cpu_count()} cores, {workers} UDF workers, "
        f"best of {args.repeat} (each run: " + ", ".join(
            f"{e} {'/'.join(f'{s:.1f}' for s in seconds[(e, n)])} s {n}"
            for e in ENTITIES for n in versions
        ) + ")\n"
    )  # fmt: skip
    print("| entity | records | UDFs in process (s) | UDF workers (s) | ratio |")
    print("|---|---:|---:|---:|---:|")
    for entity in ENTITIES:
        inline, offloaded = min(seconds[(entity, "in process")]), min(seconds[(entity, "workers")])
        print(
            f"| {entity} | {records[entity]:,} | {inline:.1f} | {offloaded:.1f} | "
            f"{offloaded / inline:.2f} |"
        )


if __name__ == "__main__":
    main()
