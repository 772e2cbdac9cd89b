"""Clustering scored pairs into entities, with cannot-link constraints.

Plain connected components chain look-alikes: a marketplace listing that names no colour
scores high against both the black and the pink variant of a model, and joins two products
the model itself scored as different. Here links are accepted strongest first (Kruskal
order) and a link is refused when it would put two records that must stay apart into one
cluster. Without constraints the result is exactly the connected components at the threshold.

Constraints, strongest first:
1. steward cannot-links (a pair decided "not a match", a manual split) keep records apart;
2. steward must-links (a pair decided "match", a manual merge) join records whatever the
   model scored;
3. pairs Splink scored as clear non-matches (below `cannot_link_below`) keep records apart,
   unless a steward already joined them;
4. exclusive groups (`one_per_source`): two records of one group never share a cluster.

With exclusive groups the records of a group are the masters' references (a catalogue's one
record per product): a link to a reference is direct evidence of a record's master, a link
between two other records only second-hand, so links touching a reference are accepted
first, strongest first, and each record joins the reference it scores best against before
record-to-record links can chain it elsewhere. The references' exclusivity then keeps
masters apart, so the model's clear non-matches (3.) are not applied there: two listings of
one product described in unlike words would otherwise veto what each scored with the
reference.
A cannot-link therefore splits a component at its weakest links: the strong links are
accepted first, and the first link that would join the two records is the one refused.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


def components(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Record -> its connected component's smallest record id, over `pairs` (records in no
    pair are left out): plain connected components, without constraints."""
    pairs = list(pairs)
    if not pairs:
        return {}
    records, labels = component_labels(
        pa.array([a for a, _ in pairs], pa.string()), pa.array([b for _, b in pairs], pa.string())
    )
    return dict(zip(records.to_pylist(), records.take(labels).to_pylist(), strict=True))


def component_labels(left: pa.Array, right: pa.Array) -> tuple[pa.Array, pa.Array]:
    """The records of the pairs (`left[i]`, `right[i]`), sorted, and for each the position
    among them of its connected component's smallest record (int32).

    Vectorised, for millions of links: each round every record takes the smallest label of
    its pairs, then follows labels to their end (pointer jumping), until every pair's two
    records agree. A record's label only ever falls, to a record of its own component, and
    the component's smallest record keeps its own, so all end on it; chains shorten by half
    each jump, so rounds stay few however long a component's chains are."""
    both = pa.chunked_array([left, right]).combine_chunks()
    records = pc.unique(both)
    records = records.take(pc.sort_indices(records))  # by code point, as Python's min
    u = pc.index_in(left, value_set=records).to_numpy().astype(np.int64)
    v = pc.index_in(right, value_set=records).to_numpy().astype(np.int64)
    labels = np.arange(len(records), dtype=np.int64)
    while True:
        smaller = np.minimum(labels[u], labels[v])
        np.minimum.at(labels, u, smaller)
        np.minimum.at(labels, v, smaller)
        while True:
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels[u], labels[v]):
            return records, pa.array(labels.astype(np.int32))


class _Clusters:
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


@dataclass
class Clustering:
    clusters: dict[str, str]  # record_id -> cluster_id (the smallest record_id of the cluster)
    # Steward must-links a steward cannot-link contradicted (through other decisions).
    refused_must_links: list[tuple[str, str]] = field(default_factory=list)


def cluster(
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

    A union only ever joins records of one connected component of the links and must-links,
    so components are independent: one holding no constraint between two of its records is
    a cluster as it is, and only the others go through the constrained, strongest-first
    merging (`_constrained`), which on them gives what it gives on everything.
    """
    records = list(records)
    links = list(links)
    known = set(records)

    def present(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        return [(a, b) for a, b in pairs if a in known and b in known]

    steward = present(steward_cannot_links)
    must = present(must_links)
    model = present(cannot_links) if exclusive_groups is None else []
    # The records, then the records only links name, in the order links name them.
    nodes = [*dict.fromkeys(records), *dict.fromkeys(
        n for a, b, _ in links for n in (a, b) if n not in known
    )]  # fmt: skip
    edges = must + [(a, b) for a, b, _ in links]
    clusters = dict(zip(nodes, _component_smallest(nodes, edges), strict=True))
    conflicted = {clusters[a] for a, b in (*steward, *model) if clusters[a] == clusters[b]}
    if exclusive_groups:
        seen: set[tuple[str, str]] = set()
        for node in nodes:
            group = exclusive_groups.get(node)
            if group is not None:
                key = (clusters[node], group)
                if key in seen:
                    conflicted.add(key[0])
                seen.add(key)
    refused: list[tuple[str, str]] = []
    if conflicted:

        def inside(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
            return [(a, b) for a, b in pairs if clusters[a] in conflicted]

        constrained = _constrained(
            [r for r in records if clusters[r] in conflicted],
            [link for link in links if clusters[link[0]] in conflicted],
            inside(model),
            must_links=inside(must),
            steward_cannot_links=inside(steward),
            exclusive_groups=exclusive_groups,
        )
        clusters.update(constrained.clusters)
        refused = constrained.refused_must_links
    if len(nodes) > len(records):  # records only links name: in the order links are taken
        order: dict[str, None] = dict.fromkeys(records)
        for a, b, _ in sorted(links, key=_link_order(exclusive_groups)):
            order.setdefault(a)
            order.setdefault(b)
        clusters = {node: clusters[node] for node in order}
    return Clustering(clusters, refused)


def _component_smallest(nodes: list[str], edges: list[tuple[str, str]]) -> list[str]:
    """Per node, the smallest record of its connected component over `edges` (itself when
    no edge names it), by `component_labels`."""
    if not edges:
        return list(nodes)
    ids, labels = component_labels(
        pa.array([a for a, _ in edges], pa.string()), pa.array([b for _, b in edges], pa.string())
    )
    given = pa.array(nodes, pa.string())
    position = pc.index_in(given, value_set=ids)
    smallest = ids.take(labels.take(pc.fill_null(position, 0)))
    return pc.if_else(pc.is_null(position), given, smallest).to_pylist()


def _constrained(
    records: Iterable[str],
    links: Iterable[tuple[str, str, float]],
    cannot_links: Iterable[tuple[str, str]] = (),
    *,
    must_links: Iterable[tuple[str, str]] = (),
    steward_cannot_links: Iterable[tuple[str, str]] = (),
    exclusive_groups: Mapping[str, str] | None = None,
) -> Clustering:
    """The constrained clustering itself (module docstring), on components with constraints."""
    clusters = _Clusters(exclusive_groups)
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
    for a, b, _ in sorted(links, key=_link_order(exclusive_groups)):
        clusters.union(a, b)
    smallest: dict[str, str] = {}
    for record in clusters.parent:
        root = clusters.find(record)
        if record < smallest.get(root, "\uffff"):
            smallest[root] = record
    return Clustering(
        {record: smallest[clusters.find(record)] for record in clusters.parent}, refused
    )


def _link_order(references: Mapping[str, str] | None):
    """Sort key: links touching a reference first (module docstring), then strongest first."""
    refs = references or {}

    def key(link: tuple[str, str, float]) -> tuple[bool, float, str, str]:
        a, b, probability = link
        return (a not in refs and b not in refs, -probability, a, b)

    return key


def affected_records(
    touched: Iterable[str],
    old_edges: Iterable[tuple[str, str]],
    new_edges: Iterable[tuple[str, str]],
) -> set[str]:
    """Every record whose cluster may differ from the last run's: the records of each
    component, before or after, that holds a touched (new, changed, removed or
    steward-decided) record. Closing over both graphs in turn until nothing is added is the
    same as taking the touched records' components in the union of both graphs."""
    affected = set(touched)
    if not affected:
        return affected
    neighbours: dict[str, list[str]] = {}
    for edges in (old_edges, new_edges):
        for a, b in edges:
            neighbours.setdefault(a, []).append(b)
            neighbours.setdefault(b, []).append(a)
    frontier = list(affected)
    while frontier:
        record = frontier.pop()
        for other in neighbours.get(record, ()):
            if other not in affected:
                affected.add(other)
                frontier.append(other)
    return affected
