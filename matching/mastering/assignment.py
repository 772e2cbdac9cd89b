"""Master id assignment as SQL over a dataflow: no per-record Python.

Rules (design): ids are opaque and never reused. Each previous master id goes to the new
cluster holding most of its previous members (ties to the smallest cluster id; a split keeps
the id with the larger part); a cluster claiming several previous ids keeps the oldest (ULIDs
sort oldest first) and the others are `merged_into` it; a cluster claiming none gets a new id
(`created`), and a new id holding members of a previous id is `split_from` it; a previous id
holding no record of this run is `retired`.

Inputs are two relations: this run's clusters (record_id, cluster_id, and `_position`, the
record's place in the run's order, which orders split events as records came) and the
previous run's record masters (record_id, master_id). Only the unclaimed clusters' new ids
are made in Python, all at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from e360.dataflow import Dataflow
from e360.ids import master_ids

CLUSTERS = "master_clusters"  # record_id, cluster_id, _position
PREVIOUS = "master_previous"  # record_id, master_id
OVERLAP = "master_id_overlap"
CLAIMS = "master_id_claims"
CLAIMED = "master_claimed_clusters"
UNCLAIMED = "master_unclaimed_clusters"
NEW_IDS = "master_new_ids"
CLUSTER_MASTERS = "master_cluster_masters"
RECORD_MASTERS = "record_masters"  # record_id, master_id, _position
EVENTS = "master_id_events"
RELATIONS = (OVERLAP, CLAIMS, CLAIMED, UNCLAIMED, NEW_IDS, CLUSTER_MASTERS, RECORD_MASTERS, EVENTS)

EVENT_SCHEMA = pa.schema(
    [("master_id", pa.string()), ("event", pa.string()), ("related_master_id", pa.string())]
)

NewIds = Callable[[int], pa.Array]  # how many -> that many new, unique master ids


@dataclass(frozen=True)
class MasterIds:
    """What an assignment decided; relation `record_masters` holds each record's id."""

    events: pa.Table  # EVENT_SCHEMA, in event order
    records_carried: int  # records that had a master id before this run
    records_changed: int  # ...of which now belong to another master id

    @property
    def churn(self) -> float:
        return self.records_changed / self.records_carried if self.records_carried else 0.0

    def event_counts(self) -> dict[str, int]:
        """Events per kind, kinds in order of first occurrence."""
        counts = pc.value_counts(self.events.column("event").combine_chunks())
        return {
            str(kind): int(n)
            for kind, n in zip(
                counts.field("values").to_pylist(), counts.field("counts").to_pylist(), strict=True
            )
        }


def id_overlap_sql(clusters: str, previous: str) -> str:
    """Members each previous id shares with each cluster, and the first such member's place."""
    return (
        "select p.master_id as previous_id, c.cluster_id, count(*) as members,\n"
        "    min(c._position) as first_position\n"
        f"from {clusters} c join {previous} p on p.record_id = c.record_id\n"
        "group by p.master_id, c.cluster_id"
    )


def id_claims_sql(overlap: str) -> str:
    """The one cluster each previous id claims: most of its members, then smallest id."""
    return (
        "select previous_id, cluster_id from (\n"
        "    select previous_id, cluster_id, row_number() over (\n"
        "        partition by previous_id order by members desc, cluster_id asc) as _rank\n"
        f"    from {overlap}) as ranked\n"
        "where _rank = 1"
    )


def claimed_clusters_sql(claims: str) -> str:
    """Clusters claimed by a previous id, each keeping the oldest id claiming it."""
    return f"select cluster_id, min(previous_id) as master_id from {claims} group by cluster_id"


def unclaimed_clusters_sql(clusters: str, claimed: str) -> str:
    """Clusters no previous id claims, numbered in cluster id order (`_new`, from 1)."""
    return (
        "select cluster_id, row_number() over (order by cluster_id asc) as _new from (\n"
        f"    select distinct c.cluster_id from {clusters} c\n"
        f"    left join {claimed} k on k.cluster_id = c.cluster_id\n"
        "    where k.cluster_id is null) as unclaimed"
    )


def cluster_masters_sql(claimed: str, unclaimed: str, new_ids: str) -> str:
    """Every cluster's master id, and whether the id is new in this run."""
    return (
        f"select cluster_id, master_id, false as created from {claimed}\n"
        "union all\n"
        "select u.cluster_id, n.master_id, true as created\n"
        f"from {unclaimed} u join {new_ids} n on n._new = u._new"
    )


def record_masters_sql(clusters: str, cluster_masters: str) -> str:
    return (
        "select c.record_id, m.master_id, c._position\n"
        f"from {clusters} c join {cluster_masters} m on m.cluster_id = c.cluster_id"
    )


def id_events_sql(
    previous: str, overlap: str, claims: str, claimed: str, cluster_masters: str
) -> str:
    """Every id event, with sort keys giving the design's order: per cluster in id order its
    merges (oldest first) or its creation; then splits, previous ids in the order their first
    member came, each one's clusters likewise; then retirements in id order."""
    return f"""
select c.previous_id as master_id, 'merged_into' as event, k.master_id as related_master_id,
       0 as _part, c.cluster_id as _cluster, c.previous_id as _previous,
       cast(null as bigint) as _first, cast(null as bigint) as _then
from {claims} c join {claimed} k on k.cluster_id = c.cluster_id
where c.previous_id <> k.master_id
union all
select master_id, 'created', cast(null as varchar), 0, cluster_id, cast(null as varchar),
       cast(null as bigint), cast(null as bigint)
from {cluster_masters} where created
union all
select m.master_id, 'split_from', o.previous_id, 1, cast(null as varchar),
       cast(null as varchar), f.first_position, o.first_position
from {overlap} o
join {cluster_masters} m on m.cluster_id = o.cluster_id
join (select previous_id, min(first_position) as first_position
      from {overlap} group by previous_id) as f on f.previous_id = o.previous_id
where m.created
union all
select master_id, 'retired', cast(null as varchar), 2, cast(null as varchar), master_id,
       cast(null as bigint), cast(null as bigint)
from (select distinct p.master_id from {previous} p
      left join (select distinct previous_id from {overlap}) as o
        on o.previous_id = p.master_id
      where o.previous_id is null) as gone"""


def id_churn_sql(record_masters: str, previous: str) -> str:
    return (
        "select count(*) as carried,\n"
        "    coalesce(sum(case when p.master_id <> m.master_id then 1 else 0 end), 0) as changed\n"
        f"from {record_masters} m join {previous} p on p.record_id = m.record_id"
    )


def assign_master_ids(flow: Dataflow, prefix: str, new_ids: NewIds | None = None) -> MasterIds:
    """Give every cluster of relation `master_clusters` a master id, carrying the ids of
    relation `master_previous` over by member overlap; leaves relation `record_masters`.

    `new_ids`: makes the new ids (default: `e360.ids.master_ids` with `prefix`)."""
    make = new_ids or (lambda count: master_ids(prefix, count))
    flow.create_table(OVERLAP, id_overlap_sql(CLUSTERS, PREVIOUS))
    flow.create_table(CLAIMS, id_claims_sql(OVERLAP))
    flow.create_table(CLAIMED, claimed_clusters_sql(CLAIMS))
    flow.create_table(UNCLAIMED, unclaimed_clusters_sql(CLUSTERS, CLAIMED))
    count = int(flow.scalar(f"select count(*) from {UNCLAIMED}") or 0)
    fresh = make(count)
    if len(fresh) != count:
        raise ValueError(f"asked for {count} new master ids, got {len(fresh)}")
    flow.register(
        NEW_IDS,
        pa.table(
            {
                "_new": pa.array(np.arange(1, count + 1, dtype=np.int64)),
                "master_id": pa.array(fresh, pa.string()),
            }
        ),
    )
    flow.create_table(CLUSTER_MASTERS, cluster_masters_sql(CLAIMED, UNCLAIMED, NEW_IDS))
    flow.create_table(RECORD_MASTERS, record_masters_sql(CLUSTERS, CLUSTER_MASTERS))
    flow.create_table(EVENTS, id_events_sql(PREVIOUS, OVERLAP, CLAIMS, CLAIMED, CLUSTER_MASTERS))
    events = flow.to_arrow(
        "select master_id, event, related_master_id from "
        f"{EVENTS} order by _part, _cluster, _previous, _first, _then"
    )
    churn = flow.to_arrow(id_churn_sql(RECORD_MASTERS, PREVIOUS)).to_pylist()[0]
    return MasterIds(
        events=events.cast(EVENT_SCHEMA),
        records_carried=int(churn["carried"]),
        records_changed=int(churn["changed"]),
    )


def clusters_relation(clusters: pa.Table) -> pa.Table:
    """A resolution's clusters (record_id, cluster_id) as relation `master_clusters`."""
    return pa.table(
        {
            "record_id": clusters.column("record_id").cast(pa.string()),
            "cluster_id": clusters.column("cluster_id").cast(pa.string()),
            "_position": pa.array(np.arange(clusters.num_rows, dtype=np.int64)),
        }
    )


def previous_relation(masters: pa.Table | None) -> pa.Table:
    """The previous run's record masters (record_id, master_id) as relation
    `master_previous` (empty before the first run)."""
    if masters is None:
        return pa.table(
            {"record_id": pa.array([], pa.string()), "master_id": pa.array([], pa.string())}
        )
    return pa.table(
        {
            "record_id": masters.column("record_id").cast(pa.string()),
            "master_id": masters.column("master_id").cast(pa.string()),
        }
    )
