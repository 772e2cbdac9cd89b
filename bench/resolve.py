"""`e360 resolve` on generated demo data with renamed columns (examples/resolve/).

Per size: the example's inputs written for that many customers, then the example mappings
resolved (customers, products) and scored against the generator's truth. Reports records,
wall seconds per step and pairwise / B-cubed F1. Results go to bench/resolve.md.

    python -m bench.resolve --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import shutil
import time
from datetime import date
from pathlib import Path

from e360.evaluation import evaluate, load_assignments, load_truth
from matching.mapped.mapping import load_mapping
from matching.mapped.resolver import resolve_mapping

BENCH_DIR = Path(__file__).resolve().parent
EXAMPLE = BENCH_DIR.parent / "examples" / "resolve"
ENTITIES = {"customers": "truth_customers.csv", "products": "truth_products.csv"}


def write_example(folder: Path, customers: int) -> None:
    """The example's inputs and truth for `customers` true customers, seed 42."""
    spec = importlib.util.spec_from_file_location("resolve_example", EXAMPLE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.write_example(folder, customers=customers, seed=42)


def run(sizes: list[int], work: Path) -> list[dict]:
    rows = []
    for size in sizes:
        folder = work / f"c{size}"
        shutil.rmtree(folder, ignore_errors=True)
        write_example(folder, size)
        for name, truth in ENTITIES.items():
            shutil.copy(EXAMPLE / f"{name}.yaml", folder / f"{name}.yaml")
            out = folder / f"out_{name}"
            start = time.perf_counter()
            report = resolve_mapping(load_mapping(folder / f"{name}.yaml"), out)
            seconds = time.perf_counter() - start
            scores = evaluate(
                load_assignments(out / "clusters.parquet"), load_truth(folder / truth)
            )
            rows.append(
                {
                    "customers": size,
                    "entity": report["entity"],
                    "records": report["records"],
                    "rejected": report["rejected"],
                    "pairs": report["pairs"],
                    "seconds": seconds,
                    "timings": report["timings"],
                    "pairwise": scores["pairwise"],
                    "bcubed": scores["bcubed"],
                }
            )
            print(rows[-1]["entity"], size, f"{seconds:.1f}s", scores["pairwise"]["f1"])
    return rows


def render(rows: list[dict]) -> str:
    lines = [
        "# e360 resolve benchmark",
        "",
        f"`python -m bench.resolve` on {date.today()}, {platform.machine()}, "
        "Splink on DuckDB; the example mappings of examples/resolve/ on generated demo data "
        "(seed 42) with renamed columns, no labels (EM).",
        "",
        "| customers | entity | records | rejected | pairs | read+standardize / train / "
        "predict / cluster (s) | total (s) | pairwise P / R / F1 | B-cubed P / R / F1 |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        t = r["timings"]
        steps = " / ".join(
            f"{t.get(k, 0):.1f}" for k in ("read_and_standardize", "train", "predict", "cluster")
        )
        p, b = r["pairwise"], r["bcubed"]
        lines.append(
            f"| {r['customers']:,} | {r['entity']} | {r['records']:,} | {r['rejected']:,} | "
            f"{r['pairs']:,} | {steps} | {r['seconds']:.1f} | "
            f"{p['precision']:.3f} / {p['recall']:.3f} / {p['f1']:.3f} | "
            f"{b['precision']:.3f} / {b['recall']:.3f} / {b['f1']:.3f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work" / "resolve")
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "resolve.md")
    args = parser.parse_args()
    args.out.write_text(render(run(args.sizes, args.work)))
    print(f"wrote {args.out}")
