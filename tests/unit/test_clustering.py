"""Clustering with cannot-links: strongest links first, never joining records kept apart."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence

from matching.resolution.clustering import cluster as cluster_records
from matching.resolution.clustering import components


def _groups(clusters: dict[str, str]) -> set[frozenset[str]]:
    members: dict[str, set[str]] = {}
    for record, cluster in clusters.items():
        members.setdefault(cluster, set()).add(record)
    return {frozenset(m) for m in members.values()}


def _relabelled(pairs: list[tuple[str, str]], records: Sequence[str] = ()) -> dict[str, str]:
    """Brute-force components by repeated relabelling: record -> its component's smallest
    record, over `records` and every record of `pairs`."""
    label = {r: r for r in [*records, *(r for pair in pairs for r in pair)]}
    changed = True
    while changed:
        changed = False
        for a, b in pairs:
            low = min(label[a], label[b])
            for node in (a, b):
                if label[node] != low:
                    label[node], changed = low, True
        for r in label:
            if label[label[r]] != label[r]:
                label[r], changed = label[label[r]], True
    return label


def test_without_constraints_it_is_connected_components() -> None:
    rng = random.Random(5)
    records = [f"r{i:03d}" for i in range(200)]
    links = [(rng.choice(records), rng.choice(records), rng.random()) for _ in range(150)]
    clusters = cluster_records(records, links).clusters
    assert _groups(clusters) == _groups(_relabelled([(a, b) for a, b, _ in links], records))
    assert all(cluster == min(m for m in clusters if clusters[m] == cluster)
               for cluster in set(clusters.values()))  # fmt: skip


def test_components_are_those_of_relabelling_on_any_graph() -> None:
    rng = random.Random(11)
    ids = [f"crm:{rng.randrange(10**6):06d}" for _ in range(400)] + ["Zed", "é", "a", "ab"]
    # Sparse and dense random graphs, and one long chain in shuffled order (many rounds of
    # pointer jumping), self-pairs and repeated pairs included.
    chain = rng.sample(ids, len(ids))
    graphs = [[(rng.choice(ids), rng.choice(ids)) for _ in range(n)] for n in (50, 300, 2000)] + [
        list(itertools.pairwise(chain)),
        [("a", "a"), ("ab", "a"), ("a", "ab")],
    ]
    for pairs in graphs:
        assert components(pairs) == _relabelled(pairs)
    assert components([]) == {}


def test_a_listing_between_two_variants_joins_only_the_stronger() -> None:
    clusters = cluster_records(
        ["erp:black", "erp:pink", "mkt:1"],
        [("mkt:1", "erp:black", 0.95), ("mkt:1", "erp:pink", 0.93)],
        cannot_links=[("erp:black", "erp:pink")],
    ).clusters
    assert _groups(clusters) == {frozenset({"erp:black", "mkt:1"}), frozenset({"erp:pink"})}
    assert clusters["mkt:1"] == "erp:black"


def test_constraints_hold_through_merged_clusters() -> None:
    # a-b and c-d form first; joining the two pairs would bring a and d together.
    clusters = cluster_records(
        "abcde",
        [("a", "b", 0.99), ("c", "d", 0.98), ("b", "c", 0.97), ("d", "e", 0.96)],
        cannot_links=[("a", "d")],
    ).clusters
    assert _groups(clusters) == {frozenset("ab"), frozenset("cde")}


def test_records_without_links_are_their_own_clusters() -> None:
    assert cluster_records(["x", "y"], []).clusters == {"x": "x", "y": "y"}


def test_long_chains_do_not_hit_the_recursion_limit() -> None:
    records = [f"n{i:06d}" for i in range(50_000)]
    links = [(records[i], records[i + 1], 0.99) for i in range(len(records) - 1)]
    clusters = cluster_records(records, links).clusters
    assert set(clusters.values()) == {"n000000"}


def test_exclusive_sources_end_in_a_one_to_one_assignment() -> None:
    """Two catalogues of one record per product: strongest links first, each record taken
    once; the weaker rival links are refused, not chained."""
    groups = {"a:1": "a", "a:2": "a", "b:1": "b", "b:2": "b"}
    clusters = cluster_records(
        groups,
        [("a:1", "b:1", 0.99), ("a:2", "b:1", 0.97), ("a:2", "b:2", 0.95), ("a:1", "b:2", 0.9)],
        exclusive_groups=groups,
    ).clusters
    assert _groups(clusters) == {frozenset({"a:1", "b:1"}), frozenset({"a:2", "b:2"})}


def test_many_offers_to_one_exclusive_catalogue_record() -> None:
    """Offers (free) all join their catalogue product (exclusive); two catalogue products
    never share a master, however the offers between them chain."""
    records = ["cat:tv", "cat:tv2", "off:1", "off:2", "off:3", "off:4"]
    groups = {"cat:tv": "cat", "cat:tv2": "cat"}
    links = [
        ("off:1", "cat:tv", 0.99),
        ("off:2", "cat:tv", 0.98),
        ("off:1", "off:2", 0.97),  # offers among themselves: free
        ("off:3", "cat:tv2", 0.96),
        ("off:3", "off:2", 0.95),  # would chain tv and tv2: refused
        ("off:4", "off:3", 0.94),
    ]
    clusters = cluster_records(records, links, exclusive_groups=groups).clusters
    assert _groups(clusters) == {
        frozenset({"cat:tv", "off:1", "off:2"}),
        frozenset({"cat:tv2", "off:3", "off:4"}),
    }


def test_an_offer_joins_the_reference_it_scores_best_before_offers_chain_it() -> None:
    """A strong link between two offers of look-alike products does not carry one of them
    off to the other's catalogue record: links to a reference are accepted first."""
    records = ["cat:a", "cat:b", "off:1", "off:2"]
    groups = {"cat:a": "cat", "cat:b": "cat"}
    links = [
        ("off:1", "off:2", 0.99),  # look-alikes, stronger than either's own reference
        ("off:1", "cat:a", 0.9),
        ("off:2", "cat:b", 0.8),
    ]
    clusters = cluster_records(records, links, exclusive_groups=groups).clusters
    assert _groups(clusters) == {frozenset({"cat:a", "off:1"}), frozenset({"cat:b", "off:2"})}


def test_with_references_the_model_non_matches_do_not_split_a_product() -> None:
    """Two offers of one product in unlike words (a clear non-match to each other) both join
    their reference; without references the same non-match keeps them apart."""
    records = ["cat:a", "off:1", "off:2"]
    links = [("off:1", "cat:a", 0.9), ("off:2", "cat:a", 0.8)]
    non_match = [("off:1", "off:2")]
    referenced = cluster_records(
        records, links, non_match, exclusive_groups={"cat:a": "cat"}
    ).clusters
    assert _groups(referenced) == {frozenset(records)}
    free = cluster_records(records, links, non_match).clusters
    assert _groups(free) == {frozenset({"cat:a", "off:1"}), frozenset({"off:2"})}
