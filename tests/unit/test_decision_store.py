"""The steward store: decisions become record-level constraints; nothing is lost or doubled."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from matching.resolution.clustering import affected_records, cluster
from matching.resolution.constraints import StewardDecisions
from stewardship.store import DecisionConflict, DecisionStore, StewardError


@pytest.fixture
def store(tmp_path: Path) -> DecisionStore:
    store = DecisionStore.at_path(tmp_path / "steward.db")
    yield store
    store.close()


def test_pair_decisions_become_must_and_cannot_links(store: DecisionStore) -> None:
    store.decide_pair("customer", "crm:2", "crm:1", "match", "ann")
    store.decide_pair("customer", "crm:3", "pos:1", "no_match", "ann")
    store.decide_pair("customer", "crm:4", "pos:2", "unsure", "ann")
    constraints = store.constraints("customer")
    assert constraints.must_links == [("crm:1", "crm:2")]
    assert constraints.cannot_links == [("crm:3", "pos:1")]
    assert store.constraints("product").must_links == []
    assert set(constraints.pending_records) == {
        "crm:1",
        "crm:2",
        "crm:3",
        "crm:4",
        "pos:1",
        "pos:2",
    }


def test_the_store_is_what_matching_is_handed(store: DecisionStore) -> None:
    """Matching reads the decisions through its own protocol; training takes the pairs
    decided `match` only, the latest verdict winning, whatever the manual changes say."""
    assert isinstance(store, StewardDecisions)
    store.decide_pair("customer", "crm:2", "crm:1", "match", "ann")
    store.decide_pair("customer", "crm:3", "pos:1", "match", "ann")
    store.decide_pair("customer", "crm:3", "pos:1", "no_match", "bob")
    store.decide_pair("customer", "crm:4", "pos:2", "unsure", "ann")
    store.decide_pair("product", "erp:1", "web:1", "match", "ann")
    store.merge_masters("customer", {"CUS-1": ["crm:5"], "CUS-2": ["pos:5"]}, "ann", "same")
    assert store.matched_pairs("customer") == [("crm:1", "crm:2")]
    assert store.matched_pairs("product") == [("erp:1", "web:1")]


def test_a_stale_version_is_refused_and_changes_nothing(store: DecisionStore) -> None:
    first = store.decide_pair("customer", "a", "b", "match", "ann", expected_version=0)
    with pytest.raises(DecisionConflict, match="decided by ann"):
        store.decide_pair("customer", "a", "b", "no_match", "bob", expected_version=0)
    assert store.pair_decision("customer", "b", "a").verdict == "match"
    second = store.decide_pair(
        "customer", "a", "b", "no_match", "bob", expected_version=first.version
    )
    assert second.version == first.version + 1
    actions = [
        (e.actor, e.before and e.before["verdict"], e.after["verdict"]) for e in store.audit()
    ]
    assert actions == [("ann", None, "match"), ("bob", "match", "no_match")]


def test_two_stewards_racing_on_one_pair_give_one_decision_and_one_conflict(
    store: DecisionStore,
) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def decide(actor: str) -> None:
        barrier.wait()
        try:
            store.decide_pair("customer", "a", "b", "match", actor, expected_version=0)
            outcomes.append("decided")
        except DecisionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=decide, args=(who,)) for who in ("ann", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict", "decided"]
    assert len(store.pair_decisions("customer")) == 1
    assert len(store.audit()) == 1


def test_merges_and_splits_reduce_to_record_constraints(store: DecisionStore) -> None:
    store.merge_masters("customer", {"CUS-1": ["a", "b"], "CUS-2": ["c"]}, "ann", "same person")
    store.split_master("customer", "CUS-3", ["x"], ["y", "z"], "bob", "twins")
    constraints = store.constraints("customer")
    assert constraints.must_links == [("a", "b"), ("a", "c")]
    assert constraints.cannot_links == [("x", "y"), ("x", "z")]


def test_a_later_pair_decision_overrides_what_a_merge_implied(store: DecisionStore) -> None:
    store.merge_masters("customer", {"CUS-1": ["a"], "CUS-2": ["b"]}, "ann", "same")
    store.decide_pair("customer", "a", "b", "no_match", "bob")
    constraints = store.constraints("customer")
    assert constraints.must_links == [] and constraints.cannot_links == [("a", "b")]


def test_revoking_a_change_lifts_its_constraints_and_marks_it_pending(
    store: DecisionStore,
) -> None:
    change = store.merge_masters("customer", {"CUS-1": ["a"], "CUS-2": ["b"]}, "ann", "same")
    store.mark_applied(store.constraints("customer"), "r1")
    assert store.constraints("customer").pending_records == []
    store.revoke_change(change.id, "bob", "they are not")
    constraints = store.constraints("customer")
    assert constraints.must_links == []
    assert constraints.pending_records == ["a", "b"]  # the next run must undo the merge
    store.mark_applied(constraints, "r2")
    assert store.constraints("customer").pending_records == []
    with pytest.raises(DecisionConflict):
        store.revoke_change(change.id, "bob", "again")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: s.decide_pair("customer", "a", "a", "match", "x"), "two different records"),
        (lambda s: s.decide_pair("customer", "a", "b", "maybe", "x"), "unknown verdict"),
        (lambda s: s.merge_masters("customer", {"CUS-1": ["a"]}, "x", "r"), "two masters"),
        (lambda s: s.merge_masters("customer", {"A": ["a"], "B": ["b"]}, "x", " "), "reason"),
        (lambda s: s.split_master("customer", "A", ["a"], ["a"], "x", "r"), "both leave and stay"),
        (lambda s: s.split_master("customer", "A", [], ["a"], "x", "r"), "records that stay"),
    ],
)
def test_bad_decisions_are_refused_with_a_reason(store: DecisionStore, call, message: str) -> None:
    with pytest.raises(StewardError, match=message):
        call(store)
    assert store.audit() == []


def test_steward_constraints_beat_the_model_and_contradictions_are_reported() -> None:
    links = [("a", "b", 0.99), ("b", "c", 0.95)]
    result = cluster(
        ["a", "b", "c", "d"],
        links,
        must_links=[("c", "d"), ("a", "d")],
        steward_cannot_links=[("a", "c")],
    )
    # a-c apart: c-d joins first, then a-d would bridge a and c, so it is refused.
    assert result.clusters["c"] == result.clusters["d"]
    assert result.clusters["a"] != result.clusters["c"]
    assert result.refused_must_links == [("a", "d")]
    assert result.clusters["a"] == result.clusters["b"]  # the strongest link still holds


def test_exclusive_groups_keep_one_record_per_source() -> None:
    groups = {"crm:1": "crm", "crm:2": "crm", "pos:1": "pos"}
    links = [("crm:1", "pos:1", 0.99), ("crm:2", "pos:1", 0.95)]
    clusters = cluster(groups, links, exclusive_groups=groups).clusters
    assert clusters["crm:1"] == clusters["pos:1"] != clusters["crm:2"]


def test_affected_records_close_over_old_and_new_components() -> None:
    old = [("a", "b"), ("c", "d")]
    new = [("a", "b"), ("b", "n"), ("n", "c"), ("c", "d"), ("e", "f")]
    assert affected_records({"n"}, old, new) == {"a", "b", "c", "d", "n"}
    # A removed record's old component is re-clustered even if it now falls apart.
    assert affected_records({"b"}, [("a", "b"), ("b", "c")], [("a", "c")]) == {"a", "b", "c"}
    assert affected_records(set(), old, new) == set()
