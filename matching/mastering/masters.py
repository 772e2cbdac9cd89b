"""Masters: the xref, golden records, id history, pairs and review queue, as SQL over a
dataflow (master ids themselves: `matching.mastering.assignment`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

import pyarrow as pa

from e360.config import CustomRule, SurvivorshipConfig
from e360.dataflow import Dataflow
from e360.errors import MatchError
from matching.mastering.survivorship import golden_records_sql

ID_HISTORY_SCHEMA = pa.schema(
    [
        ("master_id", pa.string()),
        ("event", pa.string()),
        ("related_master_id", pa.string()),
        ("run_id", pa.string()),
        ("occurred_at", pa.timestamp("us")),
    ]
)


def id_history_table(events: pa.Table, run_id: str, at: datetime) -> pa.Table:
    """Id events (master_id, event, related_master_id) as id history rows of one run."""
    rows = events.num_rows
    return pa.table(
        [
            events.column("master_id").cast(pa.string()),
            events.column("event").cast(pa.string()),
            events.column("related_master_id").cast(pa.string()),
            pa.repeat(pa.scalar(run_id, pa.string()), rows),
            pa.repeat(pa.scalar(at, pa.timestamp("us")), rows),
        ],
        schema=ID_HISTORY_SCHEMA,
    )


def text(value: str) -> str:
    """`value` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def timestamp(at: datetime) -> str:
    """`at` (naive, UTC) as a SQL timestamp."""
    return f"cast({text(at.isoformat(sep=' '))} as timestamp)"


def xref_sql(members: str, pairs: str, *, threshold: float, run_id: str, at: datetime) -> str:
    """record -> master, with the record's strongest link inside its master as confidence.

    `members`: record_id, source, source_key, master_id; `pairs`: scored pairs."""
    inside = (
        f"from {pairs} p\n"
        f"    join {members} l on l.record_id = p.record_id_l\n"
        f"    join {members} r on r.record_id = p.record_id_r\n"
        f"    where l.master_id = r.master_id and p.match_probability >= {float(threshold)!r}"
    )
    return f"""
with links as (
    select p.record_id_l as record_id, p.match_probability
    {inside}
    union all
    select p.record_id_r as record_id, p.match_probability
    {inside}
),
best as (
    select record_id, max(match_probability) as match_probability
    from links group by record_id
)
select m.record_id, m.source, m.source_key, m.master_id,
       b.match_probability, {text(run_id)} as run_id, {timestamp(at)} as assigned_at
from {members} m left join best b on b.record_id = m.record_id
order by m.record_id"""


def xref_table(flow: Dataflow, *, threshold: float, run_id: str, at: datetime) -> pa.Table:
    """The xref of relations `members` (record_id, source, source_key, master_id) and
    `pairs`."""
    return arrow_result(
        flow.to_arrow(xref_sql("members", "pairs", threshold=threshold, run_id=run_id, at=at))
    )


def golden_table(
    flow: Dataflow,
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
    present = set(flow.to_arrow("select * from standardized_members limit 0").column_names)
    shown = {a: c for a, c in (displays or {}).items() if a in attributes and c in present}
    sql = golden_records_sql(
        "standardized_members", attributes, rules, survivorship.source_priority, shown
    )
    custom = sorted(a for a, rule in rules.items() if isinstance(rule, CustomRule))
    try:
        golden = arrow_result(flow.to_arrow(sql))
    except Exception as exc:  # each engine raises its own errors for SQL that does not run
        if not custom:
            raise
        raise MatchError(
            f"survivorship: the custom rules of {custom} do not run: {exc}".splitlines()[0]
        ) from None
    return golden.append_column(
        "run_id", pa.repeat(pa.scalar(run_id, pa.string()), golden.num_rows)
    )


def scored_pairs_sql(pairs: str, members: str, *, run_id: str) -> str:
    """Scored pairs with both sides' master ids."""
    return f"""
select p.record_id_l, p.record_id_r, p.source_l, p.source_r,
       p.match_weight, p.match_probability,
       l.master_id as master_id_l, r.master_id as master_id_r, {text(run_id)} as run_id
from {pairs} p
join {members} l on l.record_id = p.record_id_l
join {members} r on r.record_id = p.record_id_r"""


def review_queue_sql(
    scored_pairs: str, previous_queue: str, review_band: tuple[float, float], *, at: datetime
) -> str:
    """The scored pairs in the review band; a pair still in the band keeps the time it was
    first queued (stewards sort by age)."""
    low, high = (float(bound) for bound in review_band)
    return f"""
with earlier as (
    select least(record_id_l, record_id_r) as a, greatest(record_id_l, record_id_r) as b,
           min(queued_at) as queued_at
    from {previous_queue} group by least(record_id_l, record_id_r),
                                   greatest(record_id_l, record_id_r)
)
select p.record_id_l, p.record_id_r, p.match_probability, p.match_weight,
       p.master_id_l, p.master_id_r, p.run_id,
       coalesce(e.queued_at, {timestamp(at)}) as queued_at
from {scored_pairs} p
left join earlier e
  on e.a = least(p.record_id_l, p.record_id_r)
 and e.b = greatest(p.record_id_l, p.record_id_r)
where p.match_probability >= {low!r} and p.match_probability < {high!r}
order by p.match_probability desc, p.record_id_l, p.record_id_r"""


PAIR_ORDER = "order by match_probability desc, record_id_l, record_id_r"


def pairs_tables(
    flow: Dataflow,
    review_band: tuple[float, float],
    *,
    run_id: str,
    at: datetime,
    previous_queue: pa.Table | None = None,
) -> tuple[pa.Table, pa.Table]:
    """Scored pairs of relations `pairs` and `members`, with both sides' master ids, and the
    band of them that needs a steward (`previous_queue`: the last run's queue, record_id_l,
    record_id_r and queued_at)."""
    flow.create_table("scored_pairs", scored_pairs_sql("pairs", "members", run_id=run_id))
    flow.register("previous_queue", previous_queue if previous_queue is not None else _EMPTY_QUEUE)
    try:
        pairs = arrow_result(flow.to_arrow(f"select * from scored_pairs {PAIR_ORDER}"))
        queue = arrow_result(
            flow.to_arrow(review_queue_sql("scored_pairs", "previous_queue", review_band, at=at))
        )
    finally:
        flow.drop("scored_pairs")
        flow.drop("previous_queue")
    return pairs, queue


def arrow_result(table: pa.Table) -> pa.Table:
    """A result as DuckDB hands it over, whichever engine made it: nullable columns, plain
    strings, and timestamps without a zone (the lake's master tables are naive UTC)."""
    fields = []
    for f in table.schema:
        f = f.with_nullable(True)
        if pa.types.is_large_string(f.type):
            f = f.with_type(pa.string())
        elif pa.types.is_timestamp(f.type) and f.type.tz is not None:
            f = f.with_type(pa.timestamp(f.type.unit))
        fields.append(f)
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return table if schema.equals(table.schema) else table.cast(schema)


_EMPTY_QUEUE = pa.table(
    {
        "record_id_l": pa.array([], pa.string()),
        "record_id_r": pa.array([], pa.string()),
        "queued_at": pa.array([], pa.timestamp("us")),
    }
)
