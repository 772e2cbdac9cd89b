"""Incremental resolution against a full rebuild, on generated customers.

Per size: a first run on 95% of the standardized customers (model trained), a second run
with the other 5% added (incremental), and the same data resolved from scratch with the same
model (full). Reports the match time of each, the id churn of the incremental run, and
whether both give the same masters (they must).

    python -m bench.incremental --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import shutil
import time
from collections import defaultdict
from contextlib import closing
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from demo import generate_demo_data
from e360.config import load_config
from e360.lake import Lake
from e360.zones import standardized_table_name
from ingestion.batch import ingest_source
from matching.mastering.zone import MatchSummary, match_entity
from matching.standardize.zone import build_standardized
from stewardship.store import DecisionStore

BENCH_DIR = Path(__file__).resolve().parent
CONFIG = BENCH_DIR.parent / "examples" / "demo" / "e360.yaml"
ENTITY = "customer"


def _partition(summary: MatchSummary) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    masters = summary.record_masters
    for record, master in zip(
        masters["record_id"].to_pylist(), masters["master_id"].to_pylist(), strict=True
    ):
        groups[master].add(record)
    return {frozenset(g) for g in groups.values()}


def bench_size(customers: int, work: Path) -> dict[str, object]:
    root = work / f"incremental-{customers}"
    shutil.rmtree(root, ignore_errors=True)
    base = load_config(CONFIG, overrides={"project.root": str(root / "data")}, environ={})
    generate_demo_data(base.root, customers=customers, seed=42)
    lake = Lake.from_config(base)
    for name, source in base.sources_of(ENTITY).items():
        ingest_source(lake, name, source, base.landing_dir, "b1")
    records = build_standardized(base, lake, ENTITY)
    ids = records["record_id"].to_pylist()
    first = records.filter(pc.is_in(records["record_id"], pa.array(ids[: int(len(ids) * 0.95)])))

    def project(name: str):
        config = load_config(
            CONFIG,
            overrides={"project.root": str(root / name), "paths.models": str(root / "models")},
            environ={},
        )
        return config, Lake.from_config(config)

    def timed(name: str, table: pa.Table, run_id: str) -> tuple[MatchSummary, float]:
        config, project_lake = project(name)
        project_lake.replace("standardized", standardized_table_name(ENTITY), table)
        started = time.perf_counter()
        with closing(DecisionStore.from_config(config)) as decisions:
            summary = match_entity(config, project_lake, ENTITY, run_id, decisions=decisions)
        return summary, time.perf_counter() - started

    _, first_s = timed("incremental", first, "r1")
    second, second_s = timed("incremental", records, "r2")
    full, full_s = timed("full", records, "f1")
    return {
        "customers": customers,
        "records": records.num_rows,
        "new_records": second.rescored_records,
        "reclustered": second.reclustered_records,
        "first_s": first_s,
        "incremental_s": second_s,
        "full_s": full_s,
        "incremental_timings": second.timings,
        "full_timings": full.timings,
        "churn": second.id_churn,
        "equal": _partition(second) == _partition(full),
    }


def render(results: list[dict[str, object]]) -> str:
    lines = [
        "## Incremental resolution (customers)",
        "",
        "Run 1 resolves 95% of the records (training the model); run 2 adds the other 5%",
        "incrementally; *full* resolves the same final data from scratch with the same model.",
        "Times are `match_entity` wall-clock seconds (scoring, clustering and writing the",
        "master zone); *equal* says both give the same masters.",
        "",
        "| customers | records | new | re-clustered | incremental s | full s | predict inc / full s"
        " | id churn | equal |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|:---:|",
    ]
    for r in results:
        inc, full = r["incremental_timings"], r["full_timings"]
        lines.append(
            f"| {r['customers']:,} | {r['records']:,} | {r['new_records']:,} "
            f"| {r['reclustered']:,} | {r['incremental_s']:.1f} | {r['full_s']:.1f} "
            f"| {inc['predict']:.2f} / {full['predict']:.2f} "  # type: ignore[index]
            f"| {r['churn']:.3%} | {'yes' if r['equal'] else 'NO'} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "incremental.md")
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work")
    args = parser.parse_args()
    results = [bench_size(n, args.work) for n in args.sizes]
    text = render(results)
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
