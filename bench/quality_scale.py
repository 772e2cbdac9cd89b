"""Match quality against population size: does pairwise F1 hold as the candidate space grows?

For each size: generate the demo sources (seed 42), ingest and standardize them once (kept
under the work folder, so a rerun skips straight to resolution), then train and resolve
each entity from scratch (`resolve(..., retrain=True, full=True)`) and score its clusters
against the generator's truth. Reports records, λ, the link threshold, pairs scored and
pairwise precision / recall / F1 per entity and size.

    python -m bench.quality_scale --sizes 10000 30000 100000
    python -m bench.quality_scale --sizes 100000 --errors 20   # and the worst false links
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from demo import generate_demo_data
from e360.config import E360Config, load_config
from e360.evaluation import evaluate, load_truth
from e360.lake import Lake
from e360.zones import standardized_table_name
from matching.resolution.resolve import Resolution, resolve
from orchestration.runner import run_pipeline

BENCH_DIR = Path(__file__).resolve().parent
DEMO_CONFIG = BENCH_DIR.parent / "examples" / "demo" / "e360.yaml"
ENTITIES = ("customer", "product")


def prepared(customers: int, work: Path) -> E360Config:
    """The demo project for `customers`, generated, ingested and standardized (once)."""
    root = work / f"c{customers}"
    config = load_config(DEMO_CONFIG, overrides={"project.root": str(root)}, environ={})
    done = root / ".standardized"
    if not done.exists():
        generate_demo_data(root, customers=customers, seed=42)
        run_pipeline(config, stages=["ingest", "standardize"])
        done.touch()
    return config


def false_links(
    resolution: Resolution, records: pa.Table, truth: dict[str, str], threshold: float
) -> list[dict[str, Any]]:
    """Linked pairs (at the link threshold) of records of different true entities, best first."""
    pairs = resolution.pairs.filter(
        pa.compute.greater_equal(resolution.pairs["match_probability"], threshold)
    ).to_pylist()
    wrong = [p for p in pairs if truth.get(p["record_id_l"]) != truth.get(p["record_id_r"])]
    return sorted(wrong, key=lambda p: -p["match_probability"])


def resolve_entity(config: E360Config, entity: str, errors: int) -> dict[str, Any]:
    records = Lake.from_config(config).read("standardized", standardized_table_name(entity))
    started = time.perf_counter()
    resolution = resolve(config, entity, records, retrain=True, full=True)  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    predicted = dict(
        zip(
            resolution.clusters.column("record_id").to_pylist(),
            resolution.clusters.column("cluster_id").to_pylist(),
            strict=True,
        )
    )
    truth = load_truth(config.truth_file(entity))  # type: ignore[arg-type]
    pairwise = evaluate(predicted, truth)["pairwise"]
    training = resolution.training or {}
    prior = (training.get("training") or training).get("prior") or {}
    threshold = resolution.threshold.value if resolution.threshold else float("nan")
    row: dict[str, Any] = {
        "entity": entity,
        "records": records.num_rows,
        "seconds": round(seconds, 1),
        "lambda": prior.get("value"),
        "lambda_source": prior.get("source"),
        "threshold": threshold,
        "pairs": resolution.scores.num_rows if resolution.scores is not None else 0,
        "precision": pairwise["precision"],
        "recall": pairwise["recall"],
        "f1": pairwise["f1"],
    }
    if errors:
        wrong = false_links(resolution, records, truth, threshold)
        row["false_links"] = len(wrong)
        by_id = {r["record_id"]: r for r in records.to_pylist()}
        kinds = Counter(
            _kind(by_id.get(p["record_id_l"], {}), by_id.get(p["record_id_r"], {})) for p in wrong
        )
        row["false_link_kinds"] = dict(kinds.most_common())
        row["worst"] = [
            {
                "p": round(p["match_probability"], 4),
                "l": _brief(by_id.get(p["record_id_l"], {})),
                "r": _brief(by_id.get(p["record_id_r"], {})),
            }
            for p in wrong[:errors]
        ]
    return row


_SHOWN = (
    "first_name",
    "last_name",
    "date_of_birth",
    "email",
    "phone",
    "postcode",
    "city",
    "address_line1",
    "gender",
    "company_name",
    "title",
    "brand",
    "model_number",
    "gtin",
    "colour",
)


def _kind(left: dict[str, Any], right: dict[str, Any]) -> str:
    """What two records of different true customers that were linked have in common: a
    household (surname and an address or phone, other given names), namesakes (the same
    given name and surname), or something else; products: the same model number or not."""

    def same(column: str) -> bool:
        return left.get(column) not in (None, "") and left.get(column) == right.get(column)

    if "last_name" in left:
        shared = same("postcode") or same("address_line1") or same("phone")
        if same("last_name") and not same("first_name") and shared:
            return "household"
        if same("first_name") and same("last_name"):
            return "namesakes"
        return "other"
    return "same model number" if same("model_number") else "other"


def _brief(record: dict[str, Any]) -> str:
    return " | ".join(str(record[c]) for c in _SHOWN if record.get(c) not in (None, ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--entities", nargs="+", default=list(ENTITIES))
    parser.add_argument("--work", type=Path, default=Path("/tmp/e360-quality-scale"))
    parser.add_argument("--errors", type=int, default=0, help="show this many false links")
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    print("| customers | entity | records | λ (source) | threshold | pairs | P | R | F1 | s |")
    print("|---:|---|---:|---|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        config = prepared(size, args.work)
        for entity in args.entities:
            row = {"customers": size, **resolve_entity(config, entity, args.errors)}
            rows.append(row)
            print(
                f"| {size:,} | {entity} | {row['records']:,} | {row['lambda']:.3g} "
                f"({row['lambda_source']}) | {row['threshold']:.3f} | {row['pairs']:,} "
                f"| {row['precision']:.4f} | {row['recall']:.4f} | {row['f1']:.4f} "
                f"| {row['seconds']} |",
                flush=True,
            )
            if args.errors:
                print(json.dumps({k: row[k] for k in ("false_links", "false_link_kinds")}))
                for w in row["worst"]:
                    print(f"  {w['p']}: {w['l']}\n         {w['r']}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=str))


if __name__ == "__main__":
    main()
