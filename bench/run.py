"""`make bench`: the pipeline at 10k and 100k customers, stage by stage, against bare Splink.

For each size: generate the demo sources, run every stage with the demo configuration, and
record per-stage wall seconds and peak resident memory (sampled every 20 ms). Then time a
bare Splink predict (the saved model, the same standardized records, nothing else) so the
cost of e360 around Splink is visible. Results go to bench/results.md (committed).
"""

from __future__ import annotations

import argparse
import platform
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import psutil
from splink import DuckDBAPI

from demo import generate_demo_data
from e360.config import load_config
from e360.lake import Lake
from e360.progress import SilentProgress
from e360.zones import standardized_table_name
from matching.resolution.settings import matching_fingerprint
from matching.resolution.versions import find_model, linker_from_model
from orchestration.runner import STAGES, run_pipeline

BENCH_DIR = Path(__file__).resolve().parent
DEMO_CONFIG = BENCH_DIR.parent / "examples" / "demo" / "e360.yaml"


class PeakMemory:
    """Samples this process's RSS in a thread; `peak_mb` is the maximum since `reset`."""

    def __init__(self, interval: float = 0.02) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._peak = max(self._peak, self._process.memory_info().rss)
            time.sleep(self._interval)

    def reset(self) -> None:
        self._peak = self._process.memory_info().rss

    @property
    def peak_mb(self) -> float:
        return max(self._peak, self._process.memory_info().rss) / 2**20

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class MeasuredProgress(SilentProgress):
    def __init__(self, memory: PeakMemory) -> None:
        self.memory = memory
        self.peaks: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Steps are named "<stage>: <step>"; a stage's peak is the highest of its steps."""
        stage = name.split(":", 1)[0]
        self.memory.reset()
        yield
        self.peaks[stage] = max(self.peaks.get(stage, 0.0), self.memory.peak_mb)


def bare_splink_predict(config_path: Path, root: Path, entity: str) -> tuple[float, int]:
    config = load_config(config_path, overrides={"project.root": str(root)}, environ={})
    matching = config.entities[entity].matching
    records = Lake.from_config(config).read("standardized", standardized_table_name(entity))
    model = find_model(config.models_dir, entity, matching_fingerprint(matching))
    assert model is not None
    started = time.perf_counter()
    linker = linker_from_model(DuckDBAPI().register(records), model, matching)
    pairs = linker.inference.predict(threshold_match_probability=matching.pairs_min_probability)
    n = pairs.as_duckdbpyrelation().aggregate("count(*)").fetchall()[0][0]
    return time.perf_counter() - started, n


def bench_size(customers: int, work: Path) -> dict[str, object]:
    root = work / f"c{customers}"
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    generate_demo_data(root, customers=customers, seed=42)
    generate_seconds = time.perf_counter() - started
    config = load_config(DEMO_CONFIG, overrides={"project.root": str(root)}, environ={})
    memory = PeakMemory()
    progress = MeasuredProgress(memory)
    report = run_pipeline(config, progress=progress)
    memory.close()
    splink_seconds, splink_pairs = bare_splink_predict(DEMO_CONFIG, root, "customer")
    return {
        "customers": customers,
        "generate": generate_seconds,
        "timings": report.timings,
        "peaks": progress.peaks,
        "records": {e: s["records"] for e, s in report.entities.items()},
        "events": sum(e["conformed"] for e in report.events),
        "masters": {e: s["masters"] for e, s in report.entities.items()},
        "f1": {e: v["pairwise"]["f1"] for e, v in report.evaluation.items()},
        "match_steps": {e: s["timings"] for e, s in report.entities.items()},
        "steps": report.step_timings,
        "splink_seconds": splink_seconds,
        "splink_pairs": splink_pairs,
        "match_pairs": report.entities["customer"]["pairs"],
    }


def render(results: list[dict[str, object]]) -> str:
    cpu = f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"
    lines = [
        "# e360 benchmark",
        "",
        f"`make bench` on {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {cpu}, "
        f"Python {platform.python_version()}; demo configuration (Splink on DuckDB, "
        "dbt-duckdb), generated demo data, seed 42.",
        "",
        "Per-stage wall seconds (peak RSS of the process during the stage, MiB):",
        "",
        "| customers | customer records | product records | events | "
        + " | ".join(STAGES)
        + " | total |",
        "|---:|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|",
    ]
    for r in results:
        timings, peaks = r["timings"], r["peaks"]
        cells = [f"{timings[s]:.1f} ({peaks[s]:.0f})" for s in STAGES]
        lines.append(
            f"| {r['customers']:,} | {r['records']['customer']:,} | {r['records']['product']:,} "
            f"| {r['events']:,} | " + " | ".join(cells) + f" | {sum(timings.values()):.1f} |"
        )
    lines += [
        "",
        "Bare Splink for comparison: `linker.inference.predict()` with the saved customer model "
        "on the same standardized customer records (DuckDB, no ingestion, clustering, masters "
        "or publishing):",
        "",
        "| customers | bare Splink predict (s) | pairs | e360 match stage, both entities (s) "
        "| pairwise F1 customer / product |",
        "|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        f1 = r["f1"]
        lines.append(
            f"| {r['customers']:,} | {r['splink_seconds']:.1f} | {r['splink_pairs']:,} "
            f"| {r['timings']['match']:.1f} | {f1['customer']:.3f} / {f1['product']:.3f} |"
        )
    lines += [
        "",
        "Where the match and publish stages spend their time (seconds; a fresh lake, so both "
        "models are trained by EM first):",
        "",
        "| customers | customer: train / predict / cluster / masters | product: train / predict "
        "/ cluster / masters | events | gate | warehouse load | dbt build |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        m, steps = r["match_steps"], r["steps"]
        parts = [
            " / ".join(f"{m[e].get(k, 0):.1f}" for k in ("train", "predict", "cluster", "masters"))
            for e in ("customer", "product")
        ]
        lines.append(
            f"| {r['customers']:,} | {parts[0]} | {parts[1]} | {steps['match/events']:.1f} "
            f"| {steps['publish/gate']:.1f} | {steps['publish/load']:.1f} "
            f"| {steps['publish/dbt build']:.1f} |"
        )
    lines += [
        "",
        "Generating the demo sources (not part of the pipeline): "
        + ", ".join(f"{r['customers']:,}: {r['generate']:.1f} s" for r in results)
        + ".",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results.md")
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        print(f"benchmarking {size:,} customers ...", flush=True)
        results.append(bench_size(size, args.work))
        print(render(results[-1:]), flush=True)
    args.out.write_text(render(results))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
