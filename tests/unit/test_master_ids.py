"""Master id rules: new, carried over, merged (oldest survives), split (larger part keeps)."""

from __future__ import annotations

from e360.ids import master_id, ulid
from matching.mastering.masters import assign_master_ids


def test_new_clusters_get_new_opaque_ids() -> None:
    result = assign_master_ids({"crm:1": "c1", "crm:2": "c1", "pos:9": "c2"}, {}, "CUS")
    ids = set(result.master_of_cluster.values())
    assert len(ids) == 2
    assert all(i.startswith("CUS-") and len(i) == 30 for i in ids)
    assert not any("crm" in i or "pos" in i for i in ids)
    assert sorted(e[1] for e in result.events) == ["created", "created"]
    assert result.churn == 0.0


def test_unchanged_clusters_keep_their_ids() -> None:
    previous = {"crm:1": "CUS-A", "crm:2": "CUS-A", "pos:9": "CUS-B"}
    result = assign_master_ids({"crm:1": "x", "crm:2": "x", "pos:9": "y"}, previous, "CUS")
    assert result.master_of_cluster == {"x": "CUS-A", "y": "CUS-B"}
    assert result.events == []
    assert result.records_carried == 3 and result.records_changed == 0


def test_merge_keeps_the_oldest_id_and_retires_the_other() -> None:
    older, newer = master_id("CUS", 1_000), master_id("CUS", 2_000)
    previous = {"crm:1": newer, "crm:2": newer, "pos:9": older}
    result = assign_master_ids({"crm:1": "m", "crm:2": "m", "pos:9": "m"}, previous, "CUS")
    assert result.master_of_cluster == {"m": older}
    assert result.events == [(newer, "merged_into", older)]
    assert result.records_changed == 2
    assert result.churn == 2 / 3


def test_split_leaves_the_id_with_the_larger_part() -> None:
    previous = {"a:1": "CUS-A", "a:2": "CUS-A", "a:3": "CUS-A"}
    result = assign_master_ids({"a:1": "big", "a:2": "big", "a:3": "small"}, previous, "CUS")
    assert result.master_of_cluster["big"] == "CUS-A"
    new_id = result.master_of_cluster["small"]
    assert new_id != "CUS-A"
    assert (new_id, "created", None) in result.events
    assert (new_id, "split_from", "CUS-A") in result.events
    assert result.records_changed == 1


def test_ids_whose_records_all_vanished_are_retired_and_new_ids_are_never_reused() -> None:
    previous = {"a:1": "CUS-A", "b:1": "CUS-B"}
    result = assign_master_ids({"a:1": "k", "c:1": "n"}, previous, "CUS")
    assert ("CUS-B", "retired", None) in result.events
    assert result.master_of_cluster["k"] == "CUS-A"
    assert result.master_of_cluster["n"] not in {"CUS-A", "CUS-B"}


def test_ulids_sort_by_creation_time() -> None:
    earlier, later = ulid(1_700_000_000_000), ulid(1_700_000_000_001)
    assert len(earlier) == 26 and earlier < later


def test_members_moving_to_an_existing_master_are_not_a_split() -> None:
    previous = {"a:1": "CUS-A", "a:2": "CUS-A", "b:1": "CUS-B"}
    result = assign_master_ids({"a:1": "x", "a:2": "y", "b:1": "y"}, previous, "CUS")
    assert result.master_of_cluster == {"x": "CUS-A", "y": "CUS-B"}
    assert result.events == []
    assert result.records_changed == 1


def test_ids_are_never_reused_across_runs() -> None:
    first = assign_master_ids({"a:1": "x"}, {}, "CUS")
    old_id = first.master_of_cluster["x"]
    gone = assign_master_ids({"b:1": "y"}, {"a:1": old_id}, "CUS")
    assert (old_id, "retired", None) in gone.events
    back = assign_master_ids({"a:1": "z"}, {"b:1": gone.master_of_cluster["y"]}, "CUS")
    assert back.master_of_cluster["z"] not in {old_id, gone.master_of_cluster["y"]}
