"""Honest steward state: contradictions refused or overridden, application recorded apart
from versions, partly applied changes explained, queue states, groups and pages."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from e360.dataflow import DuckDBDataflow
from matching.mastering.masters import pairs_tables
from matching.resolution.clustering import cluster
from stewardship.app.queue import Page, QueueFilter, groups_of, settling_changes
from stewardship.store import Contradicted, DecisionConflict, DecisionStore


@pytest.fixture
def store(tmp_path: Path) -> DecisionStore:
    store = DecisionStore.at_path(tmp_path / "steward.db")
    yield store
    store.close()


def test_a_run_applying_a_decision_leaves_its_version_alone(store: DecisionStore) -> None:
    decision = store.decide_pair("customer", "a", "b", "match", "ann", expected_version=0)
    store.mark_applied(store.constraints("customer"), "r1")
    applied = store.pair_decision("customer", "a", "b")
    assert (applied.version, applied.applied_run_id) == (decision.version, "r1")
    assert store.applications("customer")[("pair", decision.id)].status == "applied"
    # The steward who saw version 1 before the run may still change it...
    second = store.decide_pair(
        "customer", "a", "b", "no_match", "bob", expected_version=decision.version
    )
    assert second.version == decision.version + 1 and second.applied_run_id is None
    # ...and a real concurrent edit is still a conflict.
    with pytest.raises(DecisionConflict, match="decided by bob"):
        store.decide_pair("customer", "a", "b", "match", "ann", expected_version=decision.version)


def test_a_merge_contradicting_a_not_a_match_is_refused_naming_it(store: DecisionStore) -> None:
    kept_apart = store.decide_pair("customer", "a2", "b", "no_match", "sue", comment="twins")
    with pytest.raises(Contradicted, match="pair a2 / b decided not a match by sue") as refused:
        store.merge_masters("customer", {"M1": ["a1", "a2"], "M2": ["b"]}, "sam", "same")
    [standing] = refused.value.standing
    assert (standing.source, standing.source_id, standing.comment) == (
        "pair",
        kept_apart.id,
        "twins",
    )
    assert standing.pairs == (("a2", "b"),)
    assert store.master_changes() == [] and [e.action for e in store.audit()] == ["decide_pair"]


def test_an_override_revokes_what_the_merge_contradicts_in_one_audited_step(
    store: DecisionStore,
) -> None:
    store.decide_pair("customer", "a2", "b", "no_match", "sue", comment="twins")
    change = store.merge_masters(
        "customer", {"M1": ["a1", "a2"], "M2": ["b"]}, "sam", "same, by phone", override=True
    )
    assert store.pair_decision("customer", "a2", "b") is None
    constraints = store.constraints("customer")
    assert constraints.cannot_links == [] and ("a1", "b") in constraints.must_links
    revoke = next(e for e in store.audit() if e.action == "revoke_pair")
    assert revoke.actor == "sam" and revoke.before["verdict"] == "no_match"
    assert revoke.comment == f"overridden by merge #{change.id}: same, by phone"


def test_a_split_contradicting_a_match_or_a_merge_is_refused_then_overridden(
    store: DecisionStore,
) -> None:
    store.decide_pair("customer", "a", "b", "match", "sue")
    merge = store.merge_masters("customer", {"M1": ["c"], "M2": ["d"]}, "sue", "same")
    with pytest.raises(Contradicted) as refused:
        store.split_master("customer", "M1", ["b", "d"], ["a", "c"], "sam", "not one person")
    assert [(s.source, s.what) for s in refused.value.standing] == [
        ("pair", "match"),
        ("change", "merge"),
    ]
    store.split_master("customer", "M1", ["b", "d"], ["a", "c"], "sam", "no", override=True)
    assert store.pair_decision("customer", "a", "b") is None
    assert next(c for c in store.master_changes() if c.id == merge.id).revoked_by == "sam"
    # What stands is the split: the records leaving stay together, apart from the rest.
    constraints = store.constraints("customer")
    assert constraints.must_links == [("b", "d")]
    assert constraints.cannot_links == [("a", "b"), ("a", "d"), ("b", "c"), ("c", "d")]
    # A split that separates nothing anyone joined goes through.
    store.split_master("customer", "M9", ["x"], ["y"], "sam", "twins")


def test_a_change_a_run_applies_only_partly_says_what_refused_it_and_why(
    store: DecisionStore,
) -> None:
    merge = store.merge_masters("customer", {"M1": ["a"], "M2": ["b", "c"]}, "sam", "family")
    kept_apart = store.decide_pair("customer", "b", "c", "no_match", "sue", comment="siblings")
    constraints = store.constraints("customer")
    result = cluster(
        ["a", "b", "c"],
        [],
        must_links=constraints.must_links,
        steward_cannot_links=constraints.cannot_links,
    )
    assert result.refused_must_links == [("a", "c")]
    store.mark_applied(constraints, "r1", result.refused_must_links)
    applications = store.applications("customer")
    partly = applications[("change", merge.id)]
    assert partly.status == "partly"
    [refusal] = partly.refused
    assert refusal["records"] == ["a", "c"]
    [blocker] = refusal["blocked_by"]
    assert (blocker["source"], blocker["source_id"], blocker["records"]) == (
        "pair",
        kept_apart.id,
        ["b", "c"],
    )
    assert blocker["comment"] == "siblings"
    assert applications[("pair", kept_apart.id)].status == "applied"


def test_clusters_never_join_what_a_steward_cannot_link_separates() -> None:
    """Whatever the model links and stewards must-link, no cluster holds both ends of a
    steward cannot-link."""
    generator = random.Random(15)
    records = [f"r{i}" for i in range(40)]
    for _ in range(200):
        links = [(*generator.sample(records, 2), generator.random()) for _ in range(60)]
        must = [tuple(generator.sample(records, 2)) for _ in range(15)]
        cannot = [tuple(generator.sample(records, 2)) for _ in range(8)]
        clusters = cluster(records, links, must_links=must, steward_cannot_links=cannot).clusters
        assert all(clusters[a] != clusters[b] for a, b in cannot)


def test_pairs_settled_by_a_merge_or_a_split_are_found(store: DecisionStore) -> None:
    merge = store.merge_masters("customer", {"M1": ["a"], "M2": ["b"]}, "sam", "same")
    split = store.split_master("customer", "M3", ["x"], ["y"], "sam", "twins")
    pairs = [("a", "b"), ("x", "y"), ("a", "x")]
    settled = settling_changes(store.master_changes("customer"), pairs)
    assert {k: c.id for k, c in settled.items()} == {("a", "b"): merge.id, ("x", "y"): split.id}
    store.revoke_change(merge.id, "sue", "no")
    assert set(settling_changes(store.master_changes("customer"), pairs)) == {("x", "y")}


def test_connected_pairs_form_one_group() -> None:
    household = [("h1", "h2"), ("h2", "h3"), ("h1", "h4")]
    groups = groups_of([*household, ("p", "q")])
    assert {groups[r] for r in ("h1", "h2", "h3", "h4")} == {"h1"}
    assert groups["p"] == groups["q"] == "p"


def test_pages_count_the_whole_filtered_queue() -> None:
    rows = list(range(612))
    first = Page.of(rows, 1, 50)  # type: ignore[arg-type]
    assert (first.count, first.page, first.pages, first.first, first.last) == (612, 1, 13, 1, 50)
    last = Page.of(rows, 99, 50)  # type: ignore[arg-type]
    assert (last.page, last.first, last.last, len(last.rows)) == (13, 601, 612, 12)
    spec = QueueFilter.parse(None, None, "unsure", None, None, None, "200", "1")
    assert (spec.status, spec.size, spec.grouped) == ("unsure", 200, True)
    assert spec.params()["size"] == "200"
    assert QueueFilter.parse(None, None, None, None, None, None, "7", None).size == 50


def test_a_pair_still_queued_keeps_the_time_it_was_first_queued() -> None:
    con = duckdb.connect()
    con.register(
        "pairs",
        pa.table(
            {
                "record_id_l": ["a", "c"],
                "record_id_r": ["b", "d"],
                "source_l": ["crm", "crm"],
                "source_r": ["pos", "pos"],
                "match_weight": [0.0, 0.0],
                "match_probability": [0.5, 0.6],
            }
        ),
    )
    con.register(
        "members",
        pa.table({"record_id": ["a", "b", "c", "d"], "master_id": ["M1", "M2", "M3", "M4"]}),
    )
    first = datetime(2026, 1, 1, 8, 0)
    earlier = pa.table(
        {
            "record_id_l": ["b"],  # either order names the pair
            "record_id_r": ["a"],
            "queued_at": pa.array([first], pa.timestamp("us")),
        }
    )
    now = datetime(2026, 2, 1, 8, 0)
    _, queue = pairs_tables(
        DuckDBDataflow(con), (0.1, 0.9), run_id="r2", at=now, previous_queue=earlier
    )
    queued = {(r["record_id_l"], r["record_id_r"]): r["queued_at"] for r in queue.to_pylist()}
    assert queued == {("a", "b"): first, ("c", "d"): now}


def test_a_merge_a_later_not_a_match_turned_around_is_not_shown_applied(
    store: DecisionStore,
) -> None:
    merge = store.merge_masters("customer", {"M1": ["a"], "M2": ["b"]}, "sam", "same")
    later = store.decide_pair("customer", "a", "b", "no_match", "sue", comment="two people")
    store.mark_applied(store.constraints("customer"), "r1")
    application = store.applications("customer")[("change", merge.id)]
    assert application.status == "refused"
    [blocker] = application.refused[0]["blocked_by"]
    assert (blocker["source_id"], blocker["comment"]) == (later.id, "two people")


def test_a_store_made_before_these_tables_existed_keeps_working(tmp_path: Path) -> None:
    from sqlalchemy import text

    from stewardship.app.assignments import Assignments

    path = tmp_path / "old.db"
    old = DecisionStore.at_path(path)
    decision = old.decide_pair("customer", "a", "b", "match", "ann")
    with old.engine.begin() as connection:  # the store as an earlier release left it
        connection.execute(text("drop table decision_applications"))
        connection.execute(text("drop table pair_skips"))
    old.close()
    store = DecisionStore.at_path(path)
    assignments = Assignments(store)
    store.mark_applied(store.constraints("customer"), "r1")
    assert store.applications("customer")[("pair", decision.id)].run_id == "r1"
    assignments.skip("customer", ("b", "a"), "ann")
    assert assignments.skipped("customer", "ann") == {("a", "b")}
    assert store.pair_decision("customer", "a", "b").version == decision.version
    store.close()


def test_a_decision_edited_or_revoked_while_a_run_clusters_is_left_for_the_next_run(
    store: DecisionStore,
) -> None:
    """The run clustered with what it read: an edit or revocation meanwhile is not marked
    applied by it, so the next (incremental) run still takes it up."""
    decision = store.decide_pair("customer", "a", "b", "match", "ann", expected_version=0)
    merge = store.merge_masters("customer", {"M1": ["c"], "M2": ["d"]}, "sam", "same")
    read = store.constraints("customer")  # the run starts
    store.decide_pair("customer", "a", "b", "no_match", "bob", expected_version=decision.version)
    store.revoke_change(merge.id, "sam", "not the same after all")
    store.mark_applied(read, "r1")  # the run ends
    assert store.pair_decision("customer", "a", "b").applied_run_id is None
    assert {"a", "b", "c", "d"} <= set(store.constraints("customer").pending_records)
    assert ("pair", decision.id) not in store.applications("customer")
    store.mark_applied(store.constraints("customer"), "r2")
    assert store.pair_decision("customer", "a", "b").applied_run_id == "r2"
