"""Masters: stable master ids over clusters, the xref, golden records, pairs and review queue.

Master id rules (design): ids are opaque and never reused. Each previous master id goes to the
new cluster holding most of its previous members (a split keeps the id with the larger part);
a cluster claiming several previous ids keeps the oldest and the others are retired
`merged_into` it; a cluster claiming none gets a new id.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import duckdb
import pyarrow as pa

from e360.config import CustomRule, SurvivorshipConfig
from e360.errors import MatchError
from e360.ids import master_id
from matching.mastering.survivorship import golden_records_sql, ranked_members_sql

ID_HISTORY_SCHEMA = pa.schema(
    [
        ("master_id", pa.string()),
        ("event", pa.string()),
        ("related_master_id", pa.string()),
        ("run_id", pa.string()),
        ("occurred_at", pa.timestamp("us")),
    ]
)


@dataclass
class IdAssignment:
    master_of_cluster: dict[str, str]
    events: list[tuple[str, str, str | None]] = field(default_factory=list)
    records_carried: int = 0  # records that had a master id before this run
    records_changed: int = 0  # ...of which now belong to another master id

    @property
    def churn(self) -> float:
        return self.records_changed / self.records_carried if self.records_carried else 0.0


def assign_master_ids(
    clusters: Mapping[str, str], previous: Mapping[str, str], prefix: str
) -> IdAssignment:
    """Give every cluster a master id, carrying previous ids over by member overlap.

    `clusters`: record_id -> cluster_id of this run; `previous`: record_id -> master_id.
    """
    overlap: dict[str, Counter[str]] = defaultdict(Counter)
    for record, cluster in clusters.items():
        if record in previous:
            overlap[previous[record]][cluster] += 1
    claims: dict[str, list[str]] = defaultdict(list)
    for old_id, counts in overlap.items():
        # Most previous members wins; ties go to the smallest cluster id, for determinism.
        best = min(counts.items(), key=lambda item: (-item[1], item[0]))[0]
        claims[best].append(old_id)

    assignment = IdAssignment(master_of_cluster={})
    for cluster in sorted(set(clusters.values())):
        claimed = sorted(claims.get(cluster, ()))  # ULIDs sort oldest first
        if claimed:
            survivor = claimed[0]
            assignment.events.extend((old, "merged_into", survivor) for old in claimed[1:])
        else:
            survivor = master_id(prefix)
            assignment.events.append((survivor, "created", None))
        assignment.master_of_cluster[cluster] = survivor
    created = {event[0] for event in assignment.events if event[1] == "created"}
    for old_id, counts in overlap.items():
        for cluster in counts:
            new_id = assignment.master_of_cluster[cluster]
            # Only a new id is split off; members moving to an existing master are a re-link.
            if new_id in created:
                assignment.events.append((new_id, "split_from", old_id))
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


def id_history_table(
    events: Sequence[tuple[str, str, str | None]], run_id: str, at: datetime
) -> pa.Table:
    return pa.table(
        [
            pa.array([e[0] for e in events], pa.string()),
            pa.array([e[1] for e in events], pa.string()),
            pa.array([e[2] for e in events], pa.string()),
            pa.array([run_id] * len(events), pa.string()),
            pa.array([at] * len(events), pa.timestamp("us")),
        ],
        schema=ID_HISTORY_SCHEMA,
    )


def xref_table(
    con: duckdb.DuckDBPyConnection, *, threshold: float, run_id: str, at: datetime
) -> pa.Table:
    """record -> master, with the record's strongest link inside its master as confidence.

    Expects relations `members` (record_id, source, source_key, master_id) and `pairs`.
    """
    return con.sql(
        """
        with links as (
            select p.record_id_l as record_id, p.match_probability
            from pairs p
            join members l on l.record_id = p.record_id_l
            join members r on r.record_id = p.record_id_r
            where l.master_id = r.master_id and p.match_probability >= $threshold
            union all
            select p.record_id_r, p.match_probability
            from pairs p
            join members l on l.record_id = p.record_id_l
            join members r on r.record_id = p.record_id_r
            where l.master_id = r.master_id and p.match_probability >= $threshold
        ),
        best as (
            select record_id, max(match_probability) as match_probability
            from links group by record_id
        )
        select m.record_id, m.source, m.source_key, m.master_id,
               b.match_probability, $run_id as run_id, cast($at as timestamp) as assigned_at
        from members m left join best b using (record_id)
        order by m.record_id
        """,
        params={"threshold": threshold, "run_id": run_id, "at": at},
    ).to_arrow_table()


def golden_table(
    con: duckdb.DuckDBPyConnection,
    attributes: Sequence[str],
    survivorship: SurvivorshipConfig,
    *,
    run_id: str,
    displays: Mapping[str, str] | None = None,
) -> pa.Table:
    """Expects a relation `standardized_members`: standardized rows plus master_id.

    `displays`: attribute -> its display column; each one the members carry is kept beside
    its attribute (a members table from before display values keeps only the values).
    """
    rules = {a: survivorship.rule_for(a) for a in attributes}
    ranked = ranked_members_sql(
        "standardized_members", attributes, rules, survivorship.source_priority
    )
    present = set(con.table("standardized_members").columns)
    shown = {a: c for a, c in (displays or {}).items() if a in attributes and c in present}
    sql = golden_records_sql(f"({ranked}) as ranked", attributes, rules, shown)
    try:
        golden = con.sql(sql).to_arrow_table()
    except duckdb.Error as exc:
        custom = sorted(a for a, rule in rules.items() if isinstance(rule, CustomRule))
        if not custom:
            raise
        raise MatchError(
            f"survivorship: the custom rules of {custom} do not run: {exc}".splitlines()[0]
        ) from None
    return golden.append_column("run_id", pa.array([run_id] * golden.num_rows, pa.string()))


def pairs_tables(
    con: duckdb.DuckDBPyConnection,
    review_band: tuple[float, float],
    *,
    run_id: str,
    at: datetime,
    previous_queue: pa.Table | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Scored pairs with both sides' master ids, and the band of them that needs a steward
    (`previous_queue`: the last run's queue, record_id_l, record_id_r and queued_at)."""
    pairs = con.sql(
        """
        select p.record_id_l, p.record_id_r, p.source_l, p.source_r,
               p.match_weight, p.match_probability,
               l.master_id as master_id_l, r.master_id as master_id_r, $run_id as run_id
        from pairs p
        join members l on l.record_id = p.record_id_l
        join members r on r.record_id = p.record_id_r
        order by p.match_probability desc, p.record_id_l, p.record_id_r
        """,
        params={"run_id": run_id},
    ).to_arrow_table()
    con.register("scored_pairs", pairs)
    # A pair still in the band keeps the time it was first queued (stewards sort by age).
    earlier = previous_queue if previous_queue is not None else _EMPTY_QUEUE
    con.register("previous_queue", earlier)
    queue = con.sql(
        """
        with earlier as (
            select least(record_id_l, record_id_r) as a, greatest(record_id_l, record_id_r) as b,
                   min(queued_at) as queued_at
            from previous_queue group by 1, 2
        )
        select p.record_id_l, p.record_id_r, p.match_probability, p.match_weight,
               p.master_id_l, p.master_id_r, p.run_id,
               coalesce(e.queued_at, cast($at as timestamp)) as queued_at
        from scored_pairs p
        left join earlier e
          on e.a = least(p.record_id_l, p.record_id_r)
         and e.b = greatest(p.record_id_l, p.record_id_r)
        where p.match_probability >= $low and p.match_probability < $high
        order by p.match_probability desc, p.record_id_l, p.record_id_r
        """,
        params={"low": review_band[0], "high": review_band[1], "at": at},
    ).to_arrow_table()
    con.unregister("scored_pairs")
    con.unregister("previous_queue")
    return pairs, queue


_EMPTY_QUEUE = pa.table(
    {
        "record_id_l": pa.array([], pa.string()),
        "record_id_r": pa.array([], pa.string()),
        "queued_at": pa.array([], pa.timestamp("us")),
    }
)
