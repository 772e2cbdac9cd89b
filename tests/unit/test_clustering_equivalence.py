"""The component-wise `clustering.cluster` (and `scoring.cannot_links`, filtering in Arrow) give exactly what the sequential constrained
clustering they replaced gave (ported below from commit 80f40a9, unchanged but for names):
the same cluster of every record, in the same order, and the same refused must-links, on
randomised graphs with every kind of constraint, and on edge cases."""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from e360.config import MatchingConfig
from matching.resolution.clustering import Clustering, cluster, components
from matching.resolution.scoring import cannot_links

MATCHING = MatchingConfig.model_validate(
    {
        "blocking_rules": [["name"]],
        "comparisons": [{"type": "exact", "column": "name"}],
        "training": {"deterministic_rules": ["l.name = r.name"], "em_blocking_rules": [["name"]]},
    }
)

# --- the previous implementation -------------------------------------------------------


class _OldClusters:
    """Union-find whose roots also carry the roots they must never join and their groups."""

    def __init__(self, groups: Mapping[str, str] | None = None) -> None:
        self.parent: dict[str, str] = {}
        self.apart: dict[str, set[str]] = {}
        self.groups: dict[str, set[str]] | None = None
        if groups is not None:
            self.groups = {record: {group} for record, group in groups.items()}

    def find(self, node: str) -> str:
        root = self.parent.setdefault(node, node)
        while self.parent[root] != root:
            root = self.parent[root]
        while node != root:  # path compression, iteratively: chains can be long
            self.parent[node], node = root, self.parent[node]
        return root

    def keep_apart(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        self.apart.setdefault(ra, set()).add(rb)
        self.apart.setdefault(rb, set()).add(ra)

    def union(self, a: str, b: str, *, force: bool = False) -> bool:
        """Join the clusters of a and b unless a constraint forbids it (`force`: groups may
        repeat, for a steward's must-link)."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        apart_a = {self.find(x) for x in self.apart.get(ra, ())}
        if rb in apart_a:
            return False
        groups = self.groups
        if not force and groups is not None and groups.get(ra, set()) & groups.get(rb, set()):
            return False
        apart_b = {self.find(x) for x in self.apart.get(rb, ())}
        # Keep the larger constraint set in place (small-to-large merging).
        if len(apart_a) < len(apart_b):
            ra, rb, apart_a, apart_b = rb, ra, apart_b, apart_a
        self.parent[rb] = ra
        if self.groups is not None:
            self.groups.setdefault(ra, set()).update(self.groups.pop(rb, set()))
        merged = apart_a | apart_b
        self.apart[ra] = merged
        self.apart.pop(rb, None)
        for other in merged:
            others = self.apart.setdefault(other, set())
            others.discard(rb)
            others.add(ra)
        return True


def old_cluster(
    records: Iterable[str],
    links: Iterable[tuple[str, str, float]],
    cannot_links: Iterable[tuple[str, str]] = (),
    *,
    must_links: Iterable[tuple[str, str]] = (),
    steward_cannot_links: Iterable[tuple[str, str]] = (),
    exclusive_groups: Mapping[str, str] | None = None,
) -> Clustering:
    """Cluster records under the constraints (module docstring).

    `links`: (record_l, record_r, probability) at or above the match threshold.
    `cannot_links`: the model's clear non-matches. Constraints naming records not in
    `records` (records since deleted) are ignored.
    `exclusive_groups`: record_id -> group (its source, for one_per_source).
    """
    clusters = _OldClusters(exclusive_groups)
    for record in records:
        clusters.find(record)
    known = clusters.parent.keys()

    def present(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(a, b) for a, b in pairs if a in known and b in known]

    for a, b in present(steward_cannot_links):
        clusters.keep_apart(a, b)
    refused = [(a, b) for a, b in present(must_links) if not clusters.union(a, b, force=True)]
    if exclusive_groups is None:
        for a, b in present(cannot_links):
            if clusters.find(a) != clusters.find(b):
                clusters.keep_apart(a, b)
    for a, b, _ in sorted(links, key=_old_link_order(exclusive_groups)):
        clusters.union(a, b)
    smallest: dict[str, str] = {}
    for record in clusters.parent:
        root = clusters.find(record)
        if record < smallest.get(root, "\uffff"):
            smallest[root] = record
    return Clustering(
        {record: smallest[clusters.find(record)] for record in clusters.parent}, refused
    )


def _old_link_order(references: Mapping[str, str] | None):
    """Sort key: links touching a reference first (module docstring), then strongest first."""
    refs = references or {}

    def key(link: tuple[str, str, float]) -> tuple[bool, float, str, str]:
        a, b, probability = link
        return (a not in refs and b not in refs, -probability, a, b)

    return key


# --- the comparison ---------------------------------------------------------------------


def _same(records, links, cannot=(), must=(), steward=(), groups=None) -> Clustering:
    expected = old_cluster(
        list(records),
        list(links),
        list(cannot),
        must_links=list(must),
        steward_cannot_links=list(steward),
        exclusive_groups=groups,
    )
    got = cluster(
        list(records),
        list(links),
        list(cannot),
        must_links=list(must),
        steward_cannot_links=list(steward),
        exclusive_groups=groups,
    )
    assert list(got.clusters.items()) == list(expected.clusters.items())
    assert got.refused_must_links == expected.refused_must_links
    return got


def _pairs(rng: random.Random, nodes: list[str], n: int) -> list[tuple[str, str]]:
    return [tuple(rng.sample(nodes, 2)) for _ in range(n)]  # type: ignore[misc]


@pytest.mark.parametrize("seed", range(300))
def test_component_wise_clustering_equals_the_sequential_one(seed: int) -> None:
    rng = random.Random(seed)
    n = rng.choice([2, 5, 20, 60])
    records = [f"r{i:03d}" for i in range(n)]
    # Sparse to dense graphs: many small components, or a few large ones.
    links = [
        (a, b, rng.choice([0.9, 0.95, 0.99, round(rng.random(), 3)]))
        for a, b in _pairs(rng, records, rng.randint(0, 2 * n))
    ]
    cannot = _pairs(rng, records, rng.randint(0, n))
    must = _pairs(rng, records, rng.randint(0, n // 4 + 1))
    steward = _pairs(rng, records, rng.randint(0, n // 4 + 1))
    # Constraints on records since deleted, and links to records the caller did not list.
    if rng.random() < 0.3:
        cannot.append((records[0], "gone"))
        steward.append(("gone", records[-1]))
        must.append(("gone", records[0]))
    if rng.random() < 0.2:
        links.append((records[0], "unlisted", 0.97))
    groups = None
    if rng.random() < 0.4:
        sources = ["erp", "pos", "crm"]
        groups = {r: rng.choice(sources) for r in records if rng.random() < 0.5}
    shuffled = rng.sample(records, len(records))
    _same(shuffled, links, cannot, must, steward, groups)


def test_edge_cases_are_clustered_as_before() -> None:
    _same([], [])
    _same(["a"], [])
    _same(["a", "b"], [("a", "a", 0.99)])  # a self-link
    _same(["a", "b", "a"], [("a", "b", 0.99)])  # a record listed twice
    _same(["a", "b"], [("a", "b", 0.99)], steward=[("a", "a")])
    _same(["é", "e", "ß"], [("é", "e", 0.99), ("e", "ß", 0.91)], cannot=[("é", "ß")])
    _same(["a", "b", "c"], [("a", "b", 0.99), ("b", "c", 0.99)], cannot=[("a", "c")])
    # Equal probabilities: the order falls back to the record ids.
    _same(["a", "b", "c"], [("b", "c", 0.9), ("a", "b", 0.9)], cannot=[("a", "c")])
    _same(
        ["x", "y", "z"],
        [("x", "y", 0.99), ("y", "z", 0.99)],
        must=[("x", "z")],
        steward=[("x", "z")],
    )


def test_only_constrained_components_are_merged_strongest_first() -> None:
    # Two components: a-b-c holds a cannot-link and is split at its weakest link; d-e-f,
    # whose cannot-link joins it to a-b-c (another component), is left whole.
    links = [("a", "b", 0.99), ("b", "c", 0.91), ("d", "e", 0.95), ("e", "f", 0.92)]
    got = _same(list("abcdef"), links, cannot=[("a", "c"), ("d", "a")])
    assert got.clusters == {"a": "a", "b": "a", "c": "c", "d": "d", "e": "d", "f": "d"}


def old_cannot_links(
    scores: pa.Table, links: list[tuple[str, str, float]], below_p: float | None
) -> list[tuple[str, str]]:
    """`scoring.cannot_links` before it filtered in Arrow (commit 80f40a9)."""
    if below_p is None:
        return []
    linked = {a for a, _, _ in links} | {b for _, b, _ in links}
    below = scores.filter(pc.less(scores["match_probability"], below_p))
    return [
        (a, b)
        for a, b in zip(
            below.column("record_id_l").to_pylist(),
            below.column("record_id_r").to_pylist(),
            strict=True,
        )
        if a in linked and b in linked
    ]


def links_components(links: list[tuple[str, str, float]]) -> dict[str, str]:
    return components((a, b) for a, b, _ in links)


@pytest.mark.parametrize("seed", range(50))
def test_cannot_links_are_those_of_before_within_a_component(seed: int) -> None:
    rng = random.Random(seed)
    ids = [f"c{i}" for i in range(rng.randint(1, 40))] + ["ü", "日本"]
    rows = [
        (*rng.sample(ids, 2), rng.choice([0.001, 0.009, 0.01, 0.5, 0.99, None]))
        for _ in range(rng.randint(0, 80))
    ]
    scores = pa.table(
        {
            "record_id_l": pa.array([r[0] for r in rows], pa.string()),
            "record_id_r": pa.array([r[1] for r in rows], pa.string()),
            "match_probability": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
    links = [(a, b, p) for a, b, p in rows if p is not None and p >= 0.9]
    for below in (None, 0.01):
        matching = MATCHING.model_copy(update={"cannot_link_below": below})
        within = cannot_links(scores, links, matching)
        assert set(within) <= set(old_cannot_links(scores, links, below))
        linked = links_components(links)
        # Ordered by record ids, so runs hand clustering the same list whatever the scores' order.
        assert within == sorted(
            (a, b) for a, b in old_cannot_links(scores, links, below) if linked[a] == linked[b]
        )


@pytest.mark.parametrize("seed", range(50))
def test_cannot_links_within_components_cluster_as_every_clear_non_match_did(seed: int) -> None:
    # Only clear non-matches inside a component of links and must-links are handed to
    # clustering now: the clusters and refused must-links are those that every clear
    # non-match between linked records (the cannot-links of before) gave.
    rng = random.Random(1000 + seed)
    ids = [f"c{i}" for i in range(rng.randint(2, 40))]
    rows = [
        (*rng.sample(ids, 2), rng.choice([0.001, 0.009, 0.5, 0.95, 0.99]))
        for _ in range(rng.randint(0, 90))
    ]
    scores = pa.table(
        {
            "record_id_l": pa.array([r[0] for r in rows], pa.string()),
            "record_id_r": pa.array([r[1] for r in rows], pa.string()),
            "match_probability": pa.array([r[2] for r in rows], pa.float64()),
        }
    )
    links = [(a, b, p) for a, b, p in rows if p >= 0.9]
    must = _pairs(rng, ids, rng.randint(0, 3))
    steward = _pairs(rng, ids, rng.randint(0, 2))
    within = cannot_links(scores, links, MATCHING, must)
    every = old_cannot_links(scores, links, 0.01)
    assert set(within) <= set(every)
    kwargs = {"must_links": must, "steward_cannot_links": steward}
    got = cluster(ids, links, within, **kwargs)
    expected = cluster(ids, links, every, **kwargs)
    assert got.clusters == expected.clusters
    assert got.refused_must_links == expected.refused_must_links
