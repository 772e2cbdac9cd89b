from __future__ import annotations

import itertools
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e360.errors import E360Error
from e360.evaluation import (
    BCubedScores,
    EvaluationError,
    Scores,
    bcubed_scores,
    cluster_scores,
    evaluate,
    evaluate_against_truth,
    load_assignments,
    load_truth,
    pairwise_scores,
)


def _approx(scores: Scores, precision: float, recall: float, f1: float) -> None:
    assert scores.precision == pytest.approx(precision)
    assert scores.recall == pytest.approx(recall)
    assert scores.f1 == pytest.approx(f1)


TRUTH = {"a": "t1", "b": "t1", "c": "t2", "d": "t2", "e": "t3"}


def test_perfect_prediction_with_different_labels() -> None:
    predicted = {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Z"}
    assert pairwise_scores(predicted, TRUTH) == Scores(1.0, 1.0, 1.0, tp=2, fp=0, fn=0)
    assert cluster_scores(predicted, TRUTH) == Scores(1.0, 1.0, 1.0, tp=3, fp=0, fn=0)


def test_merge_error() -> None:
    # Two true pairs glued together: 6 predicted pairs of which 2 are right.
    predicted = {"a": "X", "b": "X", "c": "X", "d": "X", "e": "Z"}
    pairs = pairwise_scores(predicted, TRUTH)
    assert (pairs.tp, pairs.fp, pairs.fn) == (2, 4, 0)
    _approx(pairs, 2 / 6, 1.0, 2 * (1 / 3) / (1 / 3 + 1))
    clusters = cluster_scores(predicted, TRUTH)
    # Only the singleton {e} survives: 1 of 2 predicted clusters, 1 of 3 true clusters.
    assert (clusters.tp, clusters.fp, clusters.fn) == (1, 1, 2)
    _approx(clusters, 0.5, 1 / 3, 0.4)


def test_split_error() -> None:
    truth = {"a": "t1", "b": "t1", "c": "t1", "d": "t2"}
    predicted = {"a": "X", "b": "X", "c": "Y", "d": "Z"}
    pairs = pairwise_scores(predicted, truth)
    assert (pairs.tp, pairs.fp, pairs.fn) == (1, 0, 2)
    _approx(pairs, 1.0, 1 / 3, 0.5)
    clusters = cluster_scores(predicted, truth)
    assert (clusters.tp, clusters.fp, clusters.fn) == (1, 2, 1)
    _approx(clusters, 1 / 3, 0.5, 0.4)


def test_merge_and_split_together() -> None:
    truth = {"a": "t1", "b": "t1", "c": "t2", "d": "t2"}
    predicted = {"a": "X", "b": "Y", "c": "Y", "d": "Z"}  # a|b split, b+c merged, d split
    pairs = pairwise_scores(predicted, truth)
    assert (pairs.tp, pairs.fp, pairs.fn) == (0, 1, 2)
    _approx(pairs, 0.0, 0.0, 0.0)
    assert cluster_scores(predicted, truth).tp == 0


def test_only_records_present_on_both_sides_are_scored() -> None:
    truth = {"a": "t1", "b": "t1", "gone": "t1"}  # "gone" was quarantined by the pipeline
    predicted = {"a": "X", "b": "X", "extra": "X"}  # "extra" is not described by the truth
    assert pairwise_scores(predicted, truth) == Scores(1.0, 1.0, 1.0, tp=1, fp=0, fn=0)
    assert cluster_scores(predicted, truth) == Scores(1.0, 1.0, 1.0, tp=1, fp=0, fn=0)


def test_labels_are_not_compared_across_sides() -> None:
    # The same label string on both sides means nothing: only co-membership counts.
    truth = {"a": "1", "b": "2"}
    predicted = {"a": "2", "b": "1"}
    assert pairwise_scores(predicted, truth).f1 == 1.0
    assert cluster_scores(predicted, truth).f1 == 1.0


def test_empty_inputs_score_one() -> None:
    assert pairwise_scores({}, {}) == Scores(1.0, 1.0, 1.0, 0, 0, 0)
    assert cluster_scores({}, {}) == Scores(1.0, 1.0, 1.0, 0, 0, 0)
    assert pairwise_scores({"a": "X"}, {"b": "t"}) == Scores(1.0, 1.0, 1.0, 0, 0, 0)


def test_singletons_only() -> None:
    # Nothing to find and nothing claimed: perfect.
    truth = {"a": "t1", "b": "t2"}
    assert pairwise_scores({"a": "X", "b": "Y"}, truth) == Scores(1.0, 1.0, 1.0, 0, 0, 0)
    # Pairs to find but nothing claimed: no wrong claims (precision 1) yet nothing found.
    truth = {"a": "t1", "b": "t1"}
    assert pairwise_scores({"a": "X", "b": "Y"}, truth) == Scores(1.0, 0.0, 0.0, 0, 0, 1)


def _brute_force_pairs(predicted: dict[str, str], truth: dict[str, str]) -> tuple[int, int, int]:
    ids = sorted(set(predicted) & set(truth))
    tp = fp = fn = 0
    for x, y in itertools.combinations(ids, 2):
        same_pred = predicted[x] == predicted[y]
        same_true = truth[x] == truth[y]
        tp += same_pred and same_true
        fp += same_pred and not same_true
        fn += same_true and not same_pred
    return tp, fp, fn


def _brute_force_clusters(predicted: dict[str, str], truth: dict[str, str]) -> tuple[int, int, int]:
    ids = set(predicted) & set(truth)

    def clusters(labels: dict[str, str]) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for rid in ids:
            groups.setdefault(labels[rid], set()).add(rid)
        return {frozenset(g) for g in groups.values()}

    pred, true = clusters(predicted), clusters(truth)
    exact = len(pred & true)
    return exact, len(pred) - exact, len(true) - exact


@pytest.mark.parametrize("case", range(300))
def test_scores_match_brute_force(case: int) -> None:
    rng = random.Random(case)
    n = rng.randrange(0, 25)
    ids = [f"r{i}" for i in range(n)]
    truth = {rid: f"t{rng.randrange(max(1, n // rng.randrange(1, 5)))}" for rid in ids}
    predicted = {rid: f"p{rng.randrange(max(1, n // rng.randrange(1, 5)))}" for rid in ids}
    # Partial overlap exercises the "scored only where both sides know the record" rule.
    for rid in rng.sample(ids, k=min(len(ids), rng.randrange(3))):
        del truth[rid]
    predicted.update({f"x{i}": "p0" for i in range(rng.randrange(3))})

    pairs = pairwise_scores(predicted, truth)
    assert (pairs.tp, pairs.fp, pairs.fn) == _brute_force_pairs(predicted, truth)
    clusters = cluster_scores(predicted, truth)
    assert (clusters.tp, clusters.fp, clusters.fn) == _brute_force_clusters(predicted, truth)
    for scores in (pairs, clusters):
        assert 0.0 <= scores.precision <= 1.0 and 0.0 <= scores.recall <= 1.0
        assert 0.0 <= scores.f1 <= 1.0


def test_load_truth(tmp_path: Path) -> None:
    path = tmp_path / "truth.csv"
    path.write_text(
        "source,source_key,entity_id\n"
        "crm,C000101,cust-1\n"
        "loyalty,40000001,cust-1\n"
        "crm,C000102,cust-2\n"
        "crm,C000102,cust-2\n",  # a repeated identical row is harmless
        encoding="utf-8",
    )
    assert load_truth(path) == {
        "crm:C000101": "cust-1",
        "loyalty:40000001": "cust-1",
        "crm:C000102": "cust-2",
    }


def test_load_truth_rejects_contradictions(tmp_path: Path) -> None:
    path = tmp_path / "truth.csv"
    path.write_text("source,source_key,entity_id\ncrm,C1,cust-1\ncrm,C1,cust-2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="crm:C1"):
        load_truth(path)


def test_load_truth_rejects_wrong_header(tmp_path: Path) -> None:
    path = tmp_path / "truth.csv"
    path.write_text("source,key,entity\ncrm,C1,cust-1\n", encoding="utf-8")
    with pytest.raises(ValueError, match="source_key"):
        load_truth(path)


# B-cubed, by hand: precision(r) = |cluster ∩ entity| / |cluster|, recall(r) = ... / |entity|.


def test_bcubed_perfect_prediction() -> None:
    predicted = {"a": "X", "b": "X", "c": "Y", "d": "Y", "e": "Z"}
    assert bcubed_scores(predicted, TRUTH) == BCubedScores(1.0, 1.0, 1.0, records=5)


def test_bcubed_merge_error() -> None:
    # a, b, c, d share a cluster of 4 holding 2 of their entity: precision 1/2 each; e is 1.
    predicted = {"a": "X", "b": "X", "c": "X", "d": "X", "e": "Z"}
    scores = bcubed_scores(predicted, TRUTH)
    assert scores.precision == pytest.approx((4 * 0.5 + 1) / 5)  # 0.6
    assert scores.recall == pytest.approx(1.0)
    assert scores.f1 == pytest.approx(0.75)


def test_bcubed_split_error() -> None:
    truth = {"a": "t1", "b": "t1", "c": "t1", "d": "t2"}
    predicted = {"a": "X", "b": "X", "c": "Y", "d": "Z"}
    scores = bcubed_scores(predicted, truth)
    assert scores.precision == pytest.approx(1.0)
    # a and b find 2 of their 3, c finds 1 of 3, d all of its 1.
    assert scores.recall == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1) / 4)  # 2/3
    assert scores.f1 == pytest.approx(0.8)


def test_bcubed_merge_and_split_together() -> None:
    truth = {"a": "t1", "b": "t1", "c": "t2", "d": "t2"}
    predicted = {"a": "X", "b": "Y", "c": "Y", "d": "Z"}
    scores = bcubed_scores(predicted, truth)
    assert scores.precision == pytest.approx((1 + 0.5 + 0.5 + 1) / 4)  # 0.75
    assert scores.recall == pytest.approx(0.5)
    assert scores.f1 == pytest.approx(0.6)


def test_bcubed_scores_only_common_records_and_empty_is_perfect() -> None:
    truth = {"a": "t1", "b": "t1", "gone": "t1"}
    predicted = {"a": "X", "b": "X", "extra": "X"}
    assert bcubed_scores(predicted, truth) == BCubedScores(1.0, 1.0, 1.0, records=2)
    assert bcubed_scores({}, {}) == BCubedScores(1.0, 1.0, 1.0, records=0)


def _brute_force_bcubed(predicted: dict[str, str], truth: dict[str, str]) -> tuple[float, float]:
    ids = set(predicted) & set(truth)
    if not ids:
        return 1.0, 1.0
    precision = recall = 0.0
    for rid in ids:
        cluster = {x for x in ids if predicted[x] == predicted[rid]}
        entity = {x for x in ids if truth[x] == truth[rid]}
        precision += len(cluster & entity) / len(cluster)
        recall += len(cluster & entity) / len(entity)
    return precision / len(ids), recall / len(ids)


@pytest.mark.parametrize("case", range(100))
def test_bcubed_matches_brute_force(case: int) -> None:
    rng = random.Random(1000 + case)
    n = rng.randrange(0, 20)
    truth = {f"r{i}": f"t{rng.randrange(max(1, n // 3))}" for i in range(n)}
    predicted = {f"r{i}": f"p{rng.randrange(max(1, n // 2))}" for i in range(n)}
    predicted.update({f"x{i}": "p0" for i in range(rng.randrange(3))})
    scores = bcubed_scores(predicted, truth)
    precision, recall = _brute_force_bcubed(predicted, truth)
    assert scores.precision == pytest.approx(precision)
    assert scores.recall == pytest.approx(recall)
    assert 0.0 < scores.f1 <= 1.0


def test_evaluate_reports_every_view_and_coverage() -> None:
    predicted = {"a": "X", "b": "X", "c": "X", "d": "X", "e": "Z", "new": "Q"}
    result = evaluate(predicted, TRUTH)
    assert (result["records_scored"], result["records_predicted"], result["records_in_truth"]) == (
        5,
        6,
        5,
    )
    assert result["pairwise"]["tp"] == 2
    assert result["bcubed"]["precision"] == pytest.approx(0.6)
    assert result["cluster"]["tp"] == 1


def test_load_assignments_reads_parquet_with_master_ids(tmp_path: Path) -> None:
    path = tmp_path / "clusters.parquet"
    pq.write_table(
        pa.table(
            {
                "source": ["crm", "loyalty", "crm"],
                "source_key": pa.array([7, 40000001, 8], pa.int64()),  # keys of any type
                "master_id": ["CUS-1", "CUS-1", "CUS-2"],
            }
        ),
        path,
    )
    assert load_assignments(path) == {
        "crm:7": "CUS-1",
        "loyalty:40000001": "CUS-1",
        "crm:8": "CUS-2",
    }


def test_load_assignments_errors_name_the_file_and_line(tmp_path: Path) -> None:
    missing = tmp_path / "nope.csv"
    with pytest.raises(E360Error, match=r"nope\.csv: file not found"):
        load_assignments(missing)
    blank = tmp_path / "blank.csv"
    blank.write_text("source,source_key,master_id\ncrm,C1,M1\ncrm,,M2\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match=r"blank\.csv:3: blank source"):
        load_assignments(blank)
    no_label = tmp_path / "nolabel.csv"
    no_label.write_text("source,source_key,group\ncrm,C1,g\n", encoding="utf-8")
    with pytest.raises(EvaluationError, match="entity_id or master_id or cluster_id"):
        load_assignments(no_label)
    # A truth file is read by its entity_id column only: a master_id column is not truth.
    with pytest.raises(EvaluationError, match="entity_id"):
        load_truth(blank)


def test_the_run_report_gets_every_view_where_truth_exists(tmp_path: Path) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("source,source_key,entity_id\ncrm,1,t1\ncrm,2,t1\ncrm,3,t2\n")
    predicted = pa.table({"record_id": ["crm:1", "crm:2", "crm:3"], "master_id": ["M1"] * 3})
    result = evaluate_against_truth(truth, predicted)
    assert result is not None
    assert set(result) >= {"pairwise", "bcubed", "cluster", "records_scored"}
    assert result["bcubed"]["precision"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3) / 3)
    assert result["bcubed"]["recall"] == pytest.approx(1.0)
    assert evaluate_against_truth(tmp_path / "absent.csv", predicted) is None
    assert evaluate_against_truth(None, predicted) is None
