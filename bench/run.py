"""`make bench`: the pipeline at 10k and 100k customers (`--sizes 10000 100000 1000000`),
stage by stage, against bare Splink; `--engine spark` runs both on Spark local[2].

For each size: generate the demo sources, run every stage with the demo configuration, and
record per-stage wall seconds and peak resident memory (of the process and its children,
sampled every 20 ms). Then, in the same process, bare Splink does what e360's resolution
does, on the same standardized records and settings: train (Splink's own λ, u and EM
steps), predict and cluster (`bare_splink`), both entities, so the ratio of e360 to Splink
is measured on one machine state. Results go to bench/results.md (committed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import platform
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psutil

from demo import generate_demo_data
from e360.config import E360Config, load_config
from e360.entities import MasteredEntity
from e360.lake import Lake
from e360.progress import SilentProgress
from e360.zones import standardized_table_name
from matching.resolution.blocking import as_matched
from matching.resolution.engine import backend_for, close_backend, register
from matching.resolution.settings import (
    SPLINK_LOG_LEVEL,
    blocking_rule,
    exclusive_sources,
    settings,
)
from matching.resolution.splink_adapter import Linker, SplinkDataFrame
from matching.resolution.trainer import em_sampling
from orchestration.runner import STAGES, run_pipeline

ENTITIES: tuple[MasteredEntity, ...] = ("customer", "product")
STEPS = ("train", "predict", "cluster")
BENCH_DIR = Path(__file__).resolve().parent
DEMO_CONFIG = BENCH_DIR.parent / "examples" / "demo" / "e360.yaml"


class PeakMemory:
    """Samples this process's RSS in a thread; `peak_mb` is the maximum since `reset`."""

    def __init__(self, interval: float = 0.02) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._peak = 0
        # A sample taken before a reset must not land after it (a stage inheriting the last
        # stage's peak): the sampler and `reset` take turns.
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                self._peak = max(self._peak, _rss(self._process))
            time.sleep(self._interval)

    def reset(self) -> None:
        with self._lock:
            self._peak = _rss(self._process)

    @property
    def peak_mb(self) -> float:
        return max(self._peak, _rss(self._process)) / 2**20

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class MeasuredProgress(SilentProgress):
    def __init__(self, memory: PeakMemory) -> None:
        self.memory = memory
        self.peaks: dict[str, float] = {}
        self.step_peaks: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        """Steps are named "<stage>: <step>"; a stage's peak is the highest of its steps."""
        stage = name.split(":", 1)[0]
        self.memory.reset()
        yield
        peak = self.memory.peak_mb
        self.peaks[stage] = max(self.peaks.get(stage, 0.0), peak)
        self.step_peaks[name] = max(self.step_peaks.get(name, 0.0), peak)


# Peak RSS counts the process and its children: on Spark the work is done in the JVM.
def _rss(process: psutil.Process) -> int:
    total = process.memory_info().rss
    for child in process.children(recursive=True):
        with contextlib.suppress(psutil.Error):  # a child that has just exited
            total += child.memory_info().rss
    return total


@dataclass
class BareSplink:
    """Bare Splink on one entity: its own training, predict and clustering, step by step."""

    entity: str
    seconds: dict[str, float] = field(default_factory=dict)  # train, predict, cluster
    peaks: dict[str, float] = field(default_factory=dict)  # MiB, per step
    pairs: int = 0
    clusters: int = 0


def bare_splink(
    config: E360Config, entity: MasteredEntity, threshold: float, memory: PeakMemory
) -> BareSplink:
    """Splink as its tutorial runs it, on the records and settings e360 matches with (the
    same standardized records as `resolve` sees, `settings()`, the same training
    configuration): λ from the deterministic rules, u by random sampling, an EM session per
    EM blocking rule, predict, and Splink's connected components at e360's link threshold.
    Nothing of e360 around it: no safeguards, model store, blocking counts, constraints."""
    matching = config.entities[entity].matching
    training = matching.training
    exclusive = exclusive_sources(config, entity)
    standardized = Lake.from_config(config).read("standardized", standardized_table_name(entity))
    assert standardized is not None
    records = as_matched(standardized, entity, matching)
    result = BareSplink(entity)
    backend = backend_for(config.deployment.engine, config.root)
    try:
        memory.reset()
        started = time.perf_counter()
        table = register(backend, records, f"bare_{entity}")
        linker = Linker(
            table,
            settings(matching, exclusive_sources=exclusive, columns=records.column_names),
            log_level=SPLINK_LOG_LEVEL,
        )
        linker.training.estimate_probability_two_random_records_match(
            [blocking_rule(r) for r in training.deterministic_rules], recall=training.recall
        )
        linker.training.estimate_u_using_random_sampling(
            max_pairs=training.u_max_pairs, seed=training.seed
        )
        for rule in training.em_blocking_rules:
            linker.training.estimate_parameters_using_expectation_maximisation(
                blocking_rule(rule), **em_sampling(records.num_rows)
            )
        result.seconds["train"], started = _lap(started), time.perf_counter()
        result.peaks["train"] = memory.peak_mb
        memory.reset()
        predictions = linker.inference.predict(
            threshold_match_probability=matching.pairs_min_probability
        )
        result.pairs = _count(linker, predictions)
        result.seconds["predict"], started = _lap(started), time.perf_counter()
        result.peaks["predict"] = memory.peak_mb
        memory.reset()
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        result.clusters = _count(linker, clusters, "distinct cluster_id")
        result.seconds["cluster"] = _lap(started)
        result.peaks["cluster"] = memory.peak_mb
    finally:
        close_backend(backend)
    return result


def _lap(started: float) -> float:
    return time.perf_counter() - started


def _count(linker: Linker, table: SplinkDataFrame, what: str = "*") -> int:
    rows = linker.misc.query_sql(
        f"select count({what}) as n from {table.physical_name}", output_type="splink_df"
    ).as_record_list()
    return int(rows[0]["n"])


def bench_size(customers: int, work: Path, engine: str = "duckdb") -> dict[str, Any]:
    root = work / (f"c{customers}" if engine == "duckdb" else f"c{customers}-{engine}")
    shutil.rmtree(root, ignore_errors=True)
    started = time.perf_counter()
    generate_demo_data(root, customers=customers, seed=42)
    generate_seconds = time.perf_counter() - started
    config = load_config(DEMO_CONFIG, overrides=overrides(root, engine), environ={})
    memory = PeakMemory()
    progress = MeasuredProgress(memory)
    report = run_pipeline(config, progress=progress)
    # Right after the run, in the same process: the same machine state for both.
    bare = {
        e: asdict(bare_splink(config, e, float(report.entities[e]["threshold"]["value"]), memory))
        for e in ENTITIES
    }
    memory.close()
    return {
        "customers": customers,
        "engine": engine,
        "generate": generate_seconds,
        "timings": report.timings,
        "peaks": progress.peaks,
        "step_peaks": progress.step_peaks,
        "records": {e: s["records"] for e, s in report.entities.items()},
        "events": sum(e["conformed"] for e in report.events),
        "masters": {e: s["masters"] for e, s in report.entities.items()},
        "pairs": {e: s["pairs"] for e, s in report.entities.items()},
        "f1": {e: v["pairwise"]["f1"] for e, v in report.evaluation.items()},
        "match_steps": {e: s["timings"] for e, s in report.entities.items()},
        "steps": report.step_timings,
        "bare": bare,
    }


def overrides(root: Path, engine: str) -> dict[str, Any]:
    """The demo configuration at `root`, on DuckDB or on Spark local[2]."""
    values: dict[str, Any] = {"project.root": str(root)}
    if engine == "spark":
        values["deployment.engine.type"] = "spark"
        values["deployment.engine.spark_conf"] = {
            "spark.master": "local[2]",
            "spark.driver.memory": "4g",
        }
    return values


def resolution_seconds(steps: dict[str, float]) -> float:
    """e360's resolution of one entity: what bare Splink does too (train, predict, cluster)."""
    return sum(steps.get(k, 0.0) for k in ("train", "load_model", "predict", "cluster"))


def render(results: list[dict[str, Any]]) -> str:
    cpu = f"{psutil.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB"
    engines = sorted({str(r["engine"]) for r in results})
    lines = [
        "# e360 benchmark",
        "",
        f"`make bench` on {datetime.now(UTC):%Y-%m-%d}, {platform.machine()}, {cpu}, "
        f"Python {platform.python_version()}; demo configuration (Splink on "
        f"{' and '.join(engines)}, dbt-duckdb), generated demo data, seed 42.",
        "",
        "Per-stage wall seconds (peak RSS of the process and its children during the stage, MiB):",
        "",
        "| customers | engine | customer records | product records | events | "
        + " | ".join(STAGES)
        + " | total |",
        "|---:|---|---:|---:|---:|" + "---:|" * len(STAGES) + "---:|",
    ]
    for r in results:
        timings, peaks = r["timings"], r["peaks"]
        cells = [f"{timings[s]:.1f} ({peaks[s]:.0f})" for s in STAGES]
        lines.append(
            f"| {r['customers']:,} | {r['engine']} | {r['records']['customer']:,} "
            f"| {r['records']['product']:,} | {r['events']:,} | "
            + " | ".join(cells)
            + f" | {sum(timings.values()):.1f} |"
        )
    lines += [
        "",
        "e360 against bare Splink, in the same process right after the run. Bare Splink "
        "(`bench.run.bare_splink`): the same standardized records (`as_matched`) and Splink "
        "settings (`settings()`), Splink's own training as its tutorial does it (λ from the "
        "deterministic rules, `estimate_u_using_random_sampling` with the configured "
        "`u_max_pairs` and seed, one EM session per EM blocking rule with e360's EM "
        "`max_pairs`), `predict` and `cluster_pairwise_predictions_at_threshold` at e360's "
        "link threshold; no safeguards, model store, blocking counts, constraints or "
        "masters. *Resolution*: e360's train + predict + cluster of both entities; "
        "*match stage*: all of the stage (with masters and events).",
        "",
        "| customers | engine | bare Splink, both entities (s) | e360 resolution (s) "
        "| ratio | e360 match stage (s) | ratio | pairs customer / product (e360 vs bare) "
        "| clusters customer / product (e360 vs bare) | pairwise F1 customer / product |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        bare, steps = r["bare"], r["match_steps"]
        bare_total = sum(sum(b["seconds"].values()) for b in bare.values())
        e360 = sum(resolution_seconds(steps[e]) for e in ENTITIES)
        stage = r["timings"]["match"]
        f1 = r["f1"]
        pairs = " / ".join(f"{r['pairs'][e]:,} vs {bare[e]['pairs']:,}" for e in ENTITIES)
        clusters = " / ".join(f"{r['masters'][e]:,} vs {bare[e]['clusters']:,}" for e in ENTITIES)
        lines.append(
            f"| {r['customers']:,} | {r['engine']} | {bare_total:.1f} | {e360:.1f} "
            f"| {e360 / bare_total:.2f} | {stage:.1f} | {stage / bare_total:.2f} | {pairs} "
            f"| {clusters} | {f1['customer']:.3f} / {f1['product']:.3f} |"
        )
    lines += [
        "",
        "Step by step (seconds, peak RSS MiB): e360's steps are its resolution laps "
        "(`train` includes the model store, blocking counts and term frequencies; a fresh "
        "lake, so both models are trained); the match stage's peak per entity in brackets.",
        "",
        "| customers | engine | entity | e360 train / predict / cluster / masters (peak) "
        "| bare train / predict / cluster (peaks) |",
        "|---:|---|---|---:|---:|",
    ]
    for r in results:
        bare, steps, step_peaks = r["bare"], r["match_steps"], r["step_peaks"]
        for e in ENTITIES:
            mine = " / ".join(
                f"{steps[e].get(k, steps[e].get('load_model', 0.0) if k == 'train' else 0.0):.1f}"
                for k in (*STEPS, "masters")
            )
            peak = step_peaks.get(f"match: {e}", 0.0)
            theirs = " / ".join(f"{bare[e]['seconds'][k]:.1f}" for k in STEPS)
            theirs_peaks = " / ".join(f"{bare[e]['peaks'][k]:.0f}" for k in STEPS)
            lines.append(
                f"| {r['customers']:,} | {r['engine']} | {e} | {mine} ({peak:.0f}) "
                f"| {theirs} ({theirs_peaks}) |"
            )
    lines += [
        "",
        "The rest of the match and publish stages (seconds):",
        "",
        "| customers | engine | events | gate | warehouse load | dbt build |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    for r in results:
        steps = r["steps"]
        lines.append(
            f"| {r['customers']:,} | {r['engine']} | {steps['match/events']:.1f} "
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
    parser.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb")
    args = parser.parse_args()
    # Rows of earlier runs stay (another size, the other engine) unless measured again.
    store = args.out.with_suffix(".json")
    results = json.loads(store.read_text()) if store.exists() else []
    for size in args.sizes:
        print(f"benchmarking {size:,} customers on {args.engine} ...", flush=True)
        result = bench_size(size, args.work, args.engine)
        print(render([result]), flush=True)
        results = [r for r in results if (r["customers"], r["engine"]) != (size, args.engine)]
        results.append(result)
        results.sort(key=lambda r: (r["engine"], r["customers"]))
        store.write_text(json.dumps(results, indent=1) + "\n")
    # The sections other benchmarks wrote below this one's tables stay as they are.
    previous = args.out.read_text() if args.out.exists() else ""
    rest = previous[previous.index("\n## ") :] if "\n## " in previous else ""
    args.out.write_text(render(results) + rest)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
