"""File ingestion before and after a change, in one process (bench/results.md "File reading").

`python -m bench.ingest_files --before COMMIT --customers 100000` loads `ingestion/readers.py`
and `ingestion/batch.py` of COMMIT from git beside the working tree's, generates the demo
landing files (seed 42) and a 1,000,000-row CSV made of the CRM file's rows under fresh
keys, then times on each file *parse* (`parse_file`) and *to raw table* (`read_file`, column
checks, the duplicate-key quarantine, payload hashes and the raw Arrow table: all of a
file's ingest but the Iceberg write), asserting both give the same raw tables and rejects;
then the whole ingest of every demo file source into a fresh lake (Iceberg writes included),
with its peak RSS.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pyarrow as pa

from bench.run import PeakMemory
from demo import generate_demo_data
from e360.config import load_config
from e360.lake import Lake
from e360.zones import raw_table_name

REPO = Path(__file__).resolve().parent.parent
DEMO_CONFIG = REPO / "examples" / "demo" / "e360.yaml"
WHEN = datetime(2026, 1, 1)


def _module_at(commit: str, path: str, name: str, replace: dict[str, str]) -> ModuleType:
    source = subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    for old, new in replace.items():
        source = source.replace(old, new)
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
    return module


def _old_modules(commit: str) -> tuple[ModuleType, ModuleType]:
    readers = _module_at(commit, "ingestion/readers.py", "_bench_old_readers", {})
    batch = _module_at(
        commit,
        "ingestion/batch.py",
        "_bench_old_batch",
        {"from ingestion.readers import": "from _bench_old_readers import"},
    )
    return readers, batch


def _to_raw_old(readers: ModuleType, batch: ModuleType) -> Callable[[Path, Any], Any]:
    def run(path: Path, source: Any) -> tuple[pa.Table, list[Any]]:
        rows = batch.conform_columns("s", source, "f", readers.read_file(path, source), [])
        rows, _ = batch._first_of_each_key(rows, source.key)
        hashes = [batch._payload_hash(row) for row in rows.rows]
        return batch._raw_table("s", "b", WHEN, "f", rows, hashes), rows.rejects

    return run


def _to_raw_new(path: Path, source: Any) -> tuple[pa.Table, list[Any]]:
    from ingestion import batch, readers
    from ingestion import rows as rows_module

    rows = batch.conform_columns("s", source, "f", readers.read_file(path, source), [])
    rows, _ = batch._first_of_each_key(rows, source.key)
    table = batch._raw_table("s", "b", WHEN, "f", rows, rows_module.payload_hashes(rows))
    return table, rows.rejects


def _same(rejects: list[Any], others: list[Any]) -> bool:
    """Rejects of the two versions (each its own `Reject` class) say the same."""
    return [(r.row, r.raw, r.reason) for r in rejects] == [(r.row, r.raw, r.reason) for r in others]


def _best(run: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def _million_row_csv(crm: Path, out: Path, rows: int = 1_000_000) -> None:
    """The CRM file's rows again and again, each under a fresh key, bad rows kept."""
    text = crm.read_text(encoding="utf-8")
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    records = [r for r in reader if r]
    with out.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for i in range(rows):
            record = list(records[i % len(records)])
            if record and record[0]:
                record[0] = f"K{i:08d}"
            writer.writerow(record)


def _ingest_all(config: Any, ingest_source: Callable[..., Any]) -> tuple[float, int]:
    lake = Lake.from_config(config)
    rows = 0
    started = time.perf_counter()
    for name, source in config.sources.items():
        if source.format == "kafka":
            continue
        rows += ingest_source(lake, name, source, config.landing_dir, "bench").rows_in
    return time.perf_counter() - started, rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="the commit to compare against")
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--work", type=Path, help="a folder to keep the files in (reused)")
    args = parser.parse_args()
    old_readers, old_batch = _old_modules(args.before)
    from ingestion import batch, readers

    work = args.work or Path(tempfile.mkdtemp(prefix="e360-bench-ingest-"))
    if not (work / "demo" / "landing").is_dir():
        generate_demo_data(work / "demo", customers=args.customers, seed=42)
    config = load_config(DEMO_CONFIG, overrides={"project.root": str(work / "demo")}, environ={})
    files: list[tuple[str, Path, Any, int]] = []
    for name, source in config.sources.items():
        if source.format == "kafka":
            continue
        for path in sorted(config.landing_dir.glob(source.path or "*")):
            files.append((name, path, source, args.repeat))
    crm = next(path for name, path, _, _ in files if name == "crm")
    big = work / "crm_1m.csv"
    if not big.exists():
        _million_row_csv(crm, big)
    files.append(("crm x 17", big, config.sources["crm"], 1))

    print(
        "| file | format | rows | parse before | parse after | | to raw table before "
        "| to raw table after | |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    totals = [0, 0.0, 0.0, 0.0, 0.0]
    old_to_raw = _to_raw_old(old_readers, old_batch)
    for name, path, source, repeat in files:

        def old_parse(p: Path = path, s: Any = source) -> Any:
            return old_readers.parse_file(p, s)

        def new_parse(p: Path = path, s: Any = source) -> Any:
            return readers.parse_file(p, s)

        def old_raw(p: Path = path, s: Any = source) -> Any:
            return old_to_raw(p, s)

        def new_raw(p: Path = path, s: Any = source) -> Any:
            return _to_raw_new(p, s)

        parse_old, parsed = _best(old_parse, repeat)
        parse_new, columnar = _best(new_parse, repeat)
        assert columnar.rows == parsed.rows and _same(columnar.rejects, parsed.rejects), name
        raw_old, (table_old, rejects_old) = _best(old_raw, repeat)
        raw_new, (table_new, rejects_new) = _best(new_raw, repeat)
        assert table_new.equals(table_old) and _same(rejects_new, rejects_old), name
        n = parsed_rows = len(parsed.rows) + len(parsed.rejects)
        del parsed, columnar, table_old, table_new
        print(
            f"| {name} | {source.format} | {n:,} | {n / parse_old:,.0f} | {n / parse_new:,.0f} "
            f"| {parse_old / parse_new:.1f}x | {n / raw_old:,.0f} | {n / raw_new:,.0f} "
            f"| {raw_old / raw_new:.1f}x |"
        )
        if name != "crm x 17":
            for i, v in enumerate((parsed_rows, parse_old, parse_new, raw_old, raw_new)):
                totals[i] += v
    n, p_old, p_new, r_old, r_new = totals
    print(
        f"| all demo files | | {int(n):,} | {n / p_old:,.0f} | {n / p_new:,.0f} "
        f"| {p_old / p_new:.1f}x | {n / r_old:,.0f} | {n / r_new:,.0f} | {r_old / r_new:.1f}x |"
    )

    memory = PeakMemory()
    for label, ingest in (("before", old_batch.ingest_source), ("after", batch.ingest_source)):
        root = work / f"lake-{label}"
        shutil.rmtree(root, ignore_errors=True)
        stage_config = load_config(
            DEMO_CONFIG,
            overrides={"project.root": str(work / "demo"), "paths.lake": str(root)},
            environ={},
        )
        memory.reset()
        seconds, rows = _ingest_all(stage_config, ingest)
        print(
            f"ingest stage {label}: {seconds:.1f} s, {rows:,} rows, peak {memory.peak_mb:.0f} MiB"
        )
        lake = Lake.from_config(stage_config)
        counts = {
            name: lake.read("raw", raw_table_name(name, source)).num_rows
            for name, source in stage_config.sources.items()
            if source.format != "kafka"
        }
        print(f"  raw rows: {counts}")
    memory.close()


if __name__ == "__main__":
    main()
