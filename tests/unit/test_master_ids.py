"""Master id rules: new, carried over, merged (oldest survives), split (larger part keeps).

The SQL assignment is proven against the per-record Python it replaced (kept as the reference
in tests/services/master_ids.py), on hand-made and on randomised cluster/previous mappings.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass

import pyarrow as pa
import pytest
from services.master_ids import Event, counting_ids, reference_assign_master_ids

from e360.dataflow import DuckDBDataflow
from e360.ids import master_id, master_ids, ulid
from matching.mastering.assignment import (
    CLUSTERS,
    PREVIOUS,
    RECORD_MASTERS,
    NewIds,
    assign_master_ids,
    clusters_relation,
    previous_relation,
)


@dataclass
class Assigned:
    record_masters: dict[str, str]
    master_of_cluster: dict[str, str]
    events: list[Event]
    records_carried: int
    records_changed: int
    churn: float
    event_counts: dict[str, int]


def assign(
    clusters: Mapping[str, str], previous: Mapping[str, str], new_ids: NewIds | None = None
) -> Assigned:
    """The SQL assignment on DuckDB, over mappings turned into relations."""
    flow = DuckDBDataflow()
    try:
        flow.register(CLUSTERS, clusters_relation(_table(clusters, "cluster_id")))
        flow.register(PREVIOUS, previous_relation(_table(previous, "master_id")))
        ids = assign_master_ids(flow, "CUS", new_ids)
        rows = flow.to_arrow(f"select * from {RECORD_MASTERS} order by _position").to_pylist()
    finally:
        flow.close()
    masters = {r["record_id"]: r["master_id"] for r in rows}
    assert list(masters) == list(clusters)  # every record, in the run's order
    return Assigned(
        record_masters=masters,
        master_of_cluster={c: masters[r] for r, c in clusters.items()},
        events=[
            (e["master_id"], e["event"], e["related_master_id"]) for e in ids.events.to_pylist()
        ],
        records_carried=ids.records_carried,
        records_changed=ids.records_changed,
        churn=ids.churn,
        event_counts=ids.event_counts(),
    )


def _table(mapping: Mapping[str, str], column: str) -> pa.Table:
    return pa.table(
        {
            "record_id": pa.array(list(mapping), pa.string()),
            column: pa.array(list(mapping.values()), pa.string()),
        }
    )


def assert_same_as_reference(clusters: Mapping[str, str], previous: Mapping[str, str]) -> None:
    bulk, single = counting_ids()
    got = assign(clusters, previous, bulk)
    want = reference_assign_master_ids(clusters, previous, single)
    assert got.master_of_cluster == want.master_of_cluster
    assert got.events == want.events  # the same events, in the same order
    assert (got.records_carried, got.records_changed) == (
        want.records_carried,
        want.records_changed,
    )
    counts: dict[str, int] = {}
    for _, event, _ in want.events:
        counts[event] = counts.get(event, 0) + 1
    assert got.event_counts == counts and list(got.event_counts) == list(counts)


def test_new_clusters_get_new_opaque_ids() -> None:
    result = assign({"crm:1": "c1", "crm:2": "c1", "pos:9": "c2"}, {})
    ids = set(result.master_of_cluster.values())
    assert len(ids) == 2
    assert all(i.startswith("CUS-") and len(i) == 30 for i in ids)
    assert not any("crm" in i or "pos" in i for i in ids)
    assert sorted(e[1] for e in result.events) == ["created", "created"]
    assert result.churn == 0.0


def test_unchanged_clusters_keep_their_ids() -> None:
    previous = {"crm:1": "CUS-A", "crm:2": "CUS-A", "pos:9": "CUS-B"}
    result = assign({"crm:1": "x", "crm:2": "x", "pos:9": "y"}, previous)
    assert result.master_of_cluster == {"x": "CUS-A", "y": "CUS-B"}
    assert result.events == []
    assert result.records_carried == 3 and result.records_changed == 0


def test_merge_keeps_the_oldest_id_and_retires_the_other() -> None:
    older, newer = master_id("CUS", 1_000), master_id("CUS", 2_000)
    previous = {"crm:1": newer, "crm:2": newer, "pos:9": older}
    result = assign({"crm:1": "m", "crm:2": "m", "pos:9": "m"}, previous)
    assert result.master_of_cluster == {"m": older}
    assert result.events == [(newer, "merged_into", older)]
    assert result.records_changed == 2
    assert result.churn == 2 / 3


def test_split_leaves_the_id_with_the_larger_part() -> None:
    previous = {"a:1": "CUS-A", "a:2": "CUS-A", "a:3": "CUS-A"}
    result = assign({"a:1": "big", "a:2": "big", "a:3": "small"}, previous)
    assert result.master_of_cluster["big"] == "CUS-A"
    new_id = result.master_of_cluster["small"]
    assert new_id != "CUS-A"
    assert (new_id, "created", None) in result.events
    assert (new_id, "split_from", "CUS-A") in result.events
    assert result.records_changed == 1


def test_a_tie_goes_to_the_smallest_cluster_id() -> None:
    previous = {"a:1": "CUS-A", "a:2": "CUS-A"}
    result = assign({"a:1": "q", "a:2": "p"}, previous)
    assert result.master_of_cluster["p"] == "CUS-A"
    assert (result.master_of_cluster["q"], "split_from", "CUS-A") in result.events


def test_ids_whose_records_all_vanished_are_retired_and_new_ids_are_never_reused() -> None:
    previous = {"a:1": "CUS-A", "b:1": "CUS-B"}
    result = assign({"a:1": "k", "c:1": "n"}, previous)
    assert ("CUS-B", "retired", None) in result.events
    assert result.master_of_cluster["k"] == "CUS-A"
    assert result.master_of_cluster["n"] not in {"CUS-A", "CUS-B"}


def test_ulids_sort_by_creation_time() -> None:
    earlier, later = ulid(1_700_000_000_000), ulid(1_700_000_000_001)
    assert len(earlier) == 26 and earlier < later


def test_master_ids_made_at_once_are_master_ids() -> None:
    made = master_ids("CUS", 2_000, 1_700_000_000_000).to_pylist()
    one = master_id("CUS", 1_700_000_000_000)
    assert len(set(made)) == 2_000
    assert all(len(i) == len(one) and i[:14] == one[:14] for i in made)  # prefix and time
    assert set("".join(i[14:] for i in made)) == set("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    assert master_ids("CUS", 0).to_pylist() == []
    assert master_ids("ÄÖ", 1).to_pylist()[0].startswith("ÄÖ-")


def test_members_moving_to_an_existing_master_are_not_a_split() -> None:
    previous = {"a:1": "CUS-A", "a:2": "CUS-A", "b:1": "CUS-B"}
    result = assign({"a:1": "x", "a:2": "y", "b:1": "y"}, previous)
    assert result.master_of_cluster == {"x": "CUS-A", "y": "CUS-B"}
    assert result.events == []
    assert result.records_changed == 1


def test_ids_are_never_reused_across_runs() -> None:
    first = assign({"a:1": "x"}, {})
    old_id = first.master_of_cluster["x"]
    gone = assign({"b:1": "y"}, {"a:1": old_id})
    assert (old_id, "retired", None) in gone.events
    back = assign({"a:1": "z"}, {"b:1": gone.master_of_cluster["y"]})
    assert back.master_of_cluster["z"] not in {old_id, gone.master_of_cluster["y"]}


def test_a_wrong_number_of_new_ids_is_refused() -> None:
    with pytest.raises(ValueError, match="asked for 1 new master ids, got 0"):
        assign({"a:1": "x"}, {}, lambda count: pa.array([], pa.string()))


@pytest.mark.parametrize(
    ("clusters", "previous"),
    [
        ({}, {}),
        ({"a:1": "x"}, {}),
        ({}, {"a:1": "CUS-A"}),
        # unicode and quotes in ids sort as Python sorts them
        ({"é:1": "ñ", "e:2": "n", "z:'": "ñ"}, {"é:1": "CUS-é", "e:2": "CUS-'", "z:'": "CUS-'"}),
        # three previous ids into one cluster, and one id over three clusters tied two ways
        (
            {"a": "c", "b": "c", "c": "c", "d": "b", "e": "a", "f": "a", "g": "b"},
            {"a": "M3", "b": "M1", "c": "M2", "d": "M4", "e": "M4", "f": "M5", "g": "M5"},
        ),
    ],
)
def test_edge_cases_match_the_reference(clusters: dict[str, str], previous: dict[str, str]) -> None:
    assert_same_as_reference(clusters, previous)


@pytest.mark.parametrize("seed", range(40))
def test_random_runs_match_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    records = [f"s{rng.randint(0, 3)}:{i}" for i in range(rng.randint(1, 120))]
    # The previous run: some records were there, grouped under a few ids (none for seed 0).
    old_ids = [master_id("CUS", 1_000 + rng.randint(0, 50)) for _ in range(rng.randint(1, 30))]
    previous = (
        {}
        if seed == 0
        else {r: rng.choice(old_ids) for r in records if rng.random() < 0.8}
        | {f"gone:{i}": rng.choice(old_ids) for i in range(rng.randint(0, 5))}
    )
    # This run: few cluster ids make merges and ties likely, many make splits.
    labels = [f"c{i}" for i in range(rng.choice([2, 5, 20, 60]))]
    clusters = {r: rng.choice(labels) for r in records}
    if seed % 3 == 0:  # cluster ids that are previous ids, as incremental runs give them
        clusters = {r: previous.get(r, c) for r, c in clusters.items()}
    rng.shuffle(records)
    assert_same_as_reference({r: clusters[r] for r in records}, previous)
