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
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

TRUTH_COLUMNS = ("source", "source_key", "entity_id")


@dataclass(frozen=True)
class Scores:
    """Precision, recall and F1 with the raw counts they were computed from."""

    precision: float
    recall: float
    f1: float
    tp: int
    fp: int
    fn: int


def _scores(tp: int, fp: int, fn: int) -> Scores:
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
    return _scores(tp, predicted_pairs - tp, true_pairs - tp)


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
    return _scores(exact, len(predicted_sizes) - exact, len(true_sizes) - exact)


def load_truth(path: Path) -> dict[str, str]:
    """Read a truth CSV (`source,source_key,entity_id`) into `record_id -> entity_id`.

    Raises ValueError when the header is wrong or a record is assigned to two entities, since a
    contradictory truth file would silently skew every score computed from it.
    """
    truth: dict[str, str] = {}
    with Path(path).open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in TRUTH_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{path}: missing truth column(s): {', '.join(missing)}")
        for line, row in enumerate(reader, start=2):
            rid = f"{row['source']}:{row['source_key']}"
            entity = row["entity_id"]
            previous = truth.setdefault(rid, entity)
            if previous != entity:
                raise ValueError(
                    f"{path}:{line}: record {rid} assigned to both {previous} and {entity}"
                )
    return truth


def evaluate_against_truth(truth_file: Path | None, predicted: Mapping[str, str]) -> dict | None:
    """Pairwise and cluster scores of record -> master against a truth file, if there is one."""
    if truth_file is None or not truth_file.exists():
        return None
    truth = load_truth(truth_file)
    return {
        "records_scored": len(set(predicted) & set(truth)),
        "pairwise": asdict(pairwise_scores(predicted, truth)),
        "cluster": asdict(cluster_scores(predicted, truth)),
    }
