"""Clustering scored pairs into entities, with cannot-link constraints.

Plain connected components chain look-alikes: a marketplace listing that names no colour
scores high against both the black and the pink variant of a model, and joins two products
the model itself scored as different. Here links are accepted strongest first (Kruskal
order) and a link is refused when it would put two records that must stay apart into one
cluster. Without constraints the result is exactly the connected components at the threshold.

Constraints come from pairs Splink scored as clear non-matches (below `cannot_link_below`);
steward decisions will add their own.
"""

from __future__ import annotations

from collections.abc import Iterable


class _Clusters:
    """Union-find whose roots also carry the set of roots they must never join."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}
        self.apart: dict[str, set[str]] = {}

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

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        apart_a = {self.find(x) for x in self.apart.get(ra, ())}
        if rb in apart_a:
            return False
        apart_b = {self.find(x) for x in self.apart.get(rb, ())}
        # Keep the larger constraint set in place (small-to-large merging).
        if len(apart_a) < len(apart_b):
            ra, rb, apart_a, apart_b = rb, ra, apart_b, apart_a
        self.parent[rb] = ra
        merged = apart_a | apart_b
        self.apart[ra] = merged
        self.apart.pop(rb, None)
        for other in merged:
            others = self.apart.setdefault(other, set())
            others.discard(rb)
            others.add(ra)
        return True


def cluster_with_constraints(
    records: Iterable[str],
    links: Iterable[tuple[str, str, float]],
    cannot_links: Iterable[tuple[str, str]] = (),
) -> dict[str, str]:
    """record_id -> cluster_id (the smallest record_id of the cluster).

    `links`: (record_l, record_r, probability) at or above the match threshold.
    `cannot_links`: pairs that must end in different clusters.
    """
    clusters = _Clusters()
    for record in records:
        clusters.find(record)
    for a, b in cannot_links:
        clusters.keep_apart(a, b)
    for a, b, _ in sorted(links, key=lambda link: (-link[2], link[0], link[1])):
        clusters.union(a, b)
    smallest: dict[str, str] = {}
    for record in clusters.parent:
        root = clusters.find(record)
        if record < smallest.get(root, "\uffff"):
            smallest[root] = record
    return {record: smallest[clusters.find(record)] for record in clusters.parent}
