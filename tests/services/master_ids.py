"""The per-record master id assignment the SQL replaced, kept as the reference it is proven
against (tests/unit/test_master_ids.py, tests/integration/test_master_zone_engines.py)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import pyarrow as pa

from matching.mastering.assignment import NewIds

Event = tuple[str, str, str | None]


@dataclass
class Reference:
    master_of_cluster: dict[str, str]
    events: list[Event] = field(default_factory=list)
    records_carried: int = 0
    records_changed: int = 0


def reference_assign_master_ids(
    clusters: Mapping[str, str], previous: Mapping[str, str], new_id: Callable[[], str]
) -> Reference:
    """The per-record assignment the SQL replaced, verbatim but for the injected `new_id`."""
    overlap: dict[str, Counter[str]] = defaultdict(Counter)
    for record, cluster in clusters.items():
        if record in previous:
            overlap[previous[record]][cluster] += 1
    claims: dict[str, list[str]] = defaultdict(list)
    for old_id, counts in overlap.items():
        best = min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        claims[best].append(old_id)

    assignment = Reference(master_of_cluster={})
    for cluster in sorted(set(clusters.values())):
        claimed = sorted(claims.get(cluster, ()))
        if claimed:
            survivor = claimed[0]
            assignment.events.extend((old, "merged_into", survivor) for old in claimed[1:])
        else:
            survivor = new_id()
            assignment.events.append((survivor, "created", None))
        assignment.master_of_cluster[cluster] = survivor
    created = {event[0] for event in assignment.events if event[1] == "created"}
    for old_id, counts in overlap.items():
        for cluster in counts:
            new = assignment.master_of_cluster[cluster]
            if new in created:
                assignment.events.append((new, "split_from", old_id))
    still_present = set(overlap)
    assignment.events.extend(
        (old, "retired", None) for old in sorted(set(previous.values()) - still_present)
    )
    for record, cluster in clusters.items():
        if record in previous:
            assignment.records_carried += 1
            if previous[record] != assignment.master_of_cluster[cluster]:
                assignment.records_changed += 1
    return assignment


def counting_ids() -> tuple[NewIds, Callable[[], str]]:
    """One sequence of new ids, handed out in bulk (SQL) or one at a time (the reference)."""

    def sequence() -> Iterator[str]:
        n = 0
        while True:
            n += 1
            yield f"CUS-N{n:025d}"  # later than every previous id, in creation order

    bulk, single = sequence(), sequence()
    return (lambda count: pa.array([next(bulk) for _ in range(count)], pa.string())), (
        lambda: next(single)
    )
