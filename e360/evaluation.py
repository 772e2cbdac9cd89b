"""Measure an entity resolution result against ground truth.

Both sides are mappings `record_id -> cluster id` where `record_id` is `"<source>:<source_key>"`
(see `e360.entities.record_id`). Cluster ids are opaque labels: only which records share a label
matters, so predicted master ids never need to resemble the truth's entity ids.

Only records present in *both* mappings are scored. A record the pipeline quarantined (absent from
`predicted`) or a record the truth does not describe (absent from `truth`) says nothing about
matching quality, and scoring it would mix ingestion errors into the matching score.

Empty denominators: precision is 1.0 when nothing was predicted (no wrong claims were made) and
recall is 1.0 when there was nothing to find (nothing was missed). So with nothing to predict and
nothing predicted all three scores are 1.0, while predicting nothing when there was something to
find gives precision 1.0, recall 0.0 and F1 0.0.

Three views of one result: `pairwise_scores` (record pairs), `bcubed_scores` (per record: how
much of its predicted cluster is its true entity, and of its true entity its predicted
cluster) and `cluster_scores` (whole clusters exactly right). Files of assignments are CSV or
Parquet with `source`, `source_key` and one label column (`entity_id`, `master_id` or
`cluster_id`); see `load_assignments`.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from e360.errors import E360Error

LABEL_COLUMNS = ("entity_id", "master_id", "cluster_id")


class EvaluationError(E360Error, ValueError):
    """A truth or clusters file that cannot be scored (missing, wrong columns, contradictory)."""


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 with the raw counts they were computed from."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int


def scores_from_counts(tp: int, fp: int, fn: int) -> Scores:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Scores(precision=precision, recall=recall, f1=f1, tp=tp, fp=fp, fn=fn)


def _common(predicted: Mapping[str, str], truth: Mapping[str, str]) -> list[tuple[str, str, str]]:
    """(record_id, predicted label, true label) for every record both sides describe."""
    return [(rid, label, truth[rid]) for rid, label in predicted.items() if rid in truth]


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def pairwise_scores(predicted: Mapping[str, str], truth: Mapping[str, str]) -> Scores:
    """Score the unordered record pairs placed in the same cluster.

    A pair is a true positive when both records share a predicted cluster and a true entity.
    Counted from cluster sizes over the contingency table, so the cost is linear in the number
    of records rather than quadratic in cluster sizes.
    """
    common = _common(predicted, truth)
    joint = Counter((p, t) for _, p, t in common)
    predicted_sizes = Counter(p for _, p, _ in common)
    true_sizes = Counter(t for _, _, t in common)
    tp = sum(_pairs(n) for n in joint.values())
    predicted_pairs = sum(_pairs(n) for n in predicted_sizes.values())
    true_pairs = sum(_pairs(n) for n in true_sizes.values())
    return scores_from_counts(tp, predicted_pairs - tp, true_pairs - tp)


def cluster_scores(predicted: Mapping[str, str], truth: Mapping[str, str]) -> Scores:
    """Score whole clusters: a predicted cluster is correct only if it equals a true cluster.

    Singletons count as clusters, so a record correctly left alone is an exact match.
    precision = exact / predicted clusters, recall = exact / true clusters.
    """
    common = _common(predicted, truth)
    predicted_sizes = Counter(p for _, p, _ in common)
    true_sizes = Counter(t for _, _, t in common)
    # A predicted cluster equals a true cluster iff all its members carry one true label and it
    # is as large as that true cluster; this avoids building and hashing member sets.
    labels_in_cluster: dict[str, set[str]] = {}
    for _, p, t in common:
        labels_in_cluster.setdefault(p, set()).add(t)
    exact = 0
    for p, labels in labels_in_cluster.items():
        if len(labels) == 1 and true_sizes[next(iter(labels))] == predicted_sizes[p]:
            exact += 1
    return scores_from_counts(exact, len(predicted_sizes) - exact, len(true_sizes) - exact)


@dataclass(frozen=True)
class BCubedScores:
    """B-cubed precision, recall and F1, averaged over the `records` scored."""

    precision: float
    recall: float
    f1: float
    records: int


def bcubed_scores(predicted: Mapping[str, str], truth: Mapping[str, str]) -> BCubedScores:
    """Score every record by the overlap of its predicted cluster and its true entity.

    precision(r) = |cluster(r) ∩ entity(r)| / |cluster(r)|, recall(r) = the same over
    |entity(r)|, each averaged over the records both sides describe; F1 is their harmonic mean.
    Unlike pairwise scores, a wrong merge of two large clusters does not outweigh many small
    right ones quadratically. Computed from the contingency table: the n records sharing a
    (cluster, entity) cell each have overlap n.
    """
    common = _common(predicted, truth)
    if not common:
        return BCubedScores(1.0, 1.0, 1.0, 0)
    joint = Counter((p, t) for _, p, t in common)
    predicted_sizes = Counter(p for _, p, _ in common)
    true_sizes = Counter(t for _, _, t in common)
    precision = sum(n * n / predicted_sizes[p] for (p, _), n in joint.items()) / len(common)
    recall = sum(n * n / true_sizes[t] for (_, t), n in joint.items()) / len(common)
    f1 = 2 * precision * recall / (precision + recall)  # both > 0: every record overlaps itself
    return BCubedScores(precision=precision, recall=recall, f1=f1, records=len(common))


def load_truth(path: Path) -> dict[str, str]:
    """Read a truth file (`source,source_key,entity_id`; CSV or Parquet) into
    `record_id -> entity_id`.

    Raises EvaluationError (a ValueError) when a column is missing or a record is assigned to
    two entities, since a contradictory truth file would silently skew every score.
    """
    return load_assignments(path, label_columns=("entity_id",))


def load_assignments(path: Path, label_columns: Sequence[str] = LABEL_COLUMNS) -> dict[str, str]:
    """Read `source`, `source_key` and the first present of `label_columns` from a CSV or
    Parquet file into `record_id -> label`.

    A repeated identical row is harmless; a record with two labels, a blank source or key, or
    a missing column is an EvaluationError naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise EvaluationError(f"{path}: file not found")
    columns, rows = _read_table(path)
    missing = [c for c in ("source", "source_key") if c not in columns]
    label = next((c for c in label_columns if c in columns), None)
    if label is None:
        missing.append(" or ".join(label_columns))
    if missing or label is None:
        raise EvaluationError(
            f"{path}: missing column(s): {', '.join(missing)} (columns: {', '.join(columns)})"
        )
    assigned: dict[str, str] = {}
    for line, row in rows:
        source, key, value = row.get("source"), row.get("source_key"), row.get(label)
        if not source or not key or not value:
            raise EvaluationError(f"{path}:{line}: blank source, source_key or {label}")
        rid = f"{source}:{key}"
        previous = assigned.setdefault(rid, value)
        if previous != value:
            raise EvaluationError(
                f"{path}:{line}: record {rid} assigned to both {previous} and {value}"
            )
    return assigned


def _read_table(path: Path) -> tuple[list[str], list[tuple[str, dict[str, str | None]]]]:
    """Column names and (line label, row as text) of a CSV or Parquet file."""
    if path.suffix.lower() in (".parquet", ".pq"):
        try:
            table = pq.read_table(path)
            text = pa.table(
                [table.column(i).cast(pa.string()) for i in range(table.num_columns)],
                names=table.column_names,
            )
        except (pa.ArrowException, OSError) as exc:
            raise EvaluationError(f"{path}: unreadable Parquet file: {exc}") from None
        rows = [(f"row {i}", row) for i, row in enumerate(text.to_pylist(), start=1)]
        return table.column_names, rows
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.DictReader(handle)
            rows = [(str(line), row) for line, row in enumerate(reader, start=2)]
            return list(reader.fieldnames or []), rows
    except (UnicodeDecodeError, csv.Error) as exc:
        raise EvaluationError(f"{path}: unreadable CSV file: {exc}") from None


def evaluate_against_truth(truth_file: Path | None, predicted: pa.Table) -> dict | None:
    """Pairwise, B-cubed and exact-cluster scores of record masters (record_id, master_id)
    against a truth file, if there is one."""
    if truth_file is None or not truth_file.exists():
        return None
    masters = dict(
        zip(
            predicted.column("record_id").to_pylist(),
            predicted.column("master_id").to_pylist(),
            strict=True,
        )
    )
    return evaluate(masters, load_truth(truth_file))


def evaluate(predicted: Mapping[str, str], truth: Mapping[str, str]) -> dict:
    """Every score of `predicted` against `truth`, with how many records each side holds."""
    return {
        "records_scored": len(set(predicted) & set(truth)),
        "records_predicted": len(predicted),
        "records_in_truth": len(truth),
        "pairwise": asdict(pairwise_scores(predicted, truth)),
        "bcubed": asdict(bcubed_scores(predicted, truth)),
        "cluster": asdict(cluster_scores(predicted, truth)),
    }


def format_evaluation(result: Mapping) -> list[str]:
    """`evaluate`'s result as aligned text lines: coverage, then one line per view."""
    lines = [
        f"records scored: {result['records_scored']:,} "
        f"(clusters: {result['records_predicted']:,}, truth: {result['records_in_truth']:,})",
        f"{'':10} {'precision':>9} {'recall':>9} {'F1':>9}",
    ]
    for name, key in (("pairwise", "pairwise"), ("B-cubed", "bcubed"), ("cluster", "cluster")):
        s = result[key]
        lines.append(f"{name:10} {s['precision']:9.4f} {s['recall']:9.4f} {s['f1']:9.4f}")
    pairs = result["pairwise"]
    lines.append(f"pairs: {pairs['tp']:,} true, {pairs['fp']:,} false, {pairs['fn']:,} missed")
    return lines


def evaluate_files(clusters: Path, truth: Path) -> dict:
    """Score a clusters file against a truth file (see `load_assignments` for formats)."""
    result = evaluate(load_assignments(clusters), load_truth(truth))
    if result["records_scored"] == 0:
        raise EvaluationError(
            f"{clusters}: no record is also in {truth}: do the source names and keys agree?"
        )
    return result
