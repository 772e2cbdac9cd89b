"""Conformed events: source events mapped onto the event model and carrying master ids.

An event that cannot be conformed (no timestamp that parses, a type the source's `type_map`
does not know, a customer or product reference that names no record) is not dropped: it goes to
`conformed.event_rejects` with the reason. An empty reference is an anonymous event: its master
id is null.

Conformance is SQL on the deployment's dataflow engine (DuckDB here, Spark on a cluster):
`event_sql` builds it relation by relation, `event_udfs` parses what SQL cannot.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from e360.config import E360Config, SourceConfig
from e360.dataflow import Dataflow, DuckDBDataflow
from e360.errors import E360Error
from e360.lake import Lake
from e360.sql import quote
from e360.zones import CONFORMED_EVENT_REJECTS, CONFORMED_EVENTS
from matching.mastering import event_sql as sql
from matching.mastering.event_udfs import EVENT_UDFS
from matching.resolution.engine import dataflow_for
from matching.standardize.raw import LANDING_SEQUENCE, as_text_payload, register_latest_raw

EVENT_SCHEMA = pa.schema(
    [
        ("event_id", pa.string()),
        ("event_type", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("source", pa.string()),
        ("channel", pa.string()),
        ("customer_ref", pa.string()),
        ("product_ref", pa.string()),
        ("customer_master_id", pa.string()),
        ("product_master_id", pa.string()),
        ("quantity", pa.int64()),
        ("amount", pa.float64()),
        ("currency", pa.string()),
        ("run_id", pa.string()),
    ]
)
REJECT_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("source_key", pa.string()),
        ("_file", pa.string()),
        ("_row", pa.int64()),
        ("reason", pa.string()),
        ("run_id", pa.string()),
    ]
)
MASTERS_SCHEMA = pa.schema([("record_id", pa.string()), ("master_id", pa.string())])
MASTERS: dict[sql.Entity, str] = {e: f"events__{e}_masters" for e in sql.ENTITIES}


@dataclass
class EventCounts:
    """One event source's conformance: `records` = `conformed` + `rejected`; an event rejected
    for its reference counts in `unresolved_customer` and/or `unresolved_product` (both, when
    both references fail), one rejected otherwise in neither."""

    source: str
    records: int
    conformed: int
    rejected: int
    with_customer_master: int
    with_product_master: int
    unresolved_customer: int = 0
    unresolved_product: int = 0


def masters_table(masters: Mapping[str, str]) -> pa.Table:
    """record_id -> master_id as the table `build_conformed_events` takes."""
    return pa.table(
        [pa.array(list(masters), pa.string()), pa.array(list(masters.values()), pa.string())],
        schema=MASTERS_SCHEMA,
    )


def register_masters(flow: Dataflow, customers: pa.Table, products: pa.Table) -> None:
    """The record -> master tables as the relations conformance joins (`MASTERS`)."""
    for entity, table in zip(sql.ENTITIES, (customers, products), strict=True):
        masters = table.select(["record_id", "master_id"]).cast(MASTERS_SCHEMA)
        relation = MASTERS[entity]
        flow.register(relation, masters)
        distinct = flow.scalar(f"select count(distinct record_id) from {quote(relation)}")
        if distinct != masters.num_rows:  # a join would then duplicate events
            raise E360Error(
                f"{entity} masters name {masters.num_rows - (distinct or 0)} record ids twice: "
                "each record has one master"
            )


def conform_source(
    flow: Dataflow, name: str, source: SourceConfig, latest: str, run_id: str
) -> EventCounts:
    """Conform relation `latest` (`register_latest_raw`) of event source `name` into the
    relations `events__<name>__events` and `__rejects`; the masters are registered."""
    relations = sql.EventRelations(f"events__{name}")
    columns = flow.to_arrow(f"select * from {quote(latest)} limit 0").column_names
    for udf in EVENT_UDFS:
        flow.register_udf(udf)
    flow.create_table(relations.mapped, sql.mapped_sql(source, latest, columns))
    flow.create_table(relations.timestamps, sql.timestamps_sql(relations.mapped))
    flow.create_table(relations.quantities, sql.quantities_sql(relations.mapped))
    flow.create_table(relations.amounts, sql.amounts_sql(relations.mapped))
    flow.create_table(relations.currencies, sql.currencies_sql(relations.mapped))
    flow.create_table(relations.typed, sql.typed_sql(name, source, relations))
    flow.create_table(relations.referenced, sql.referenced_sql(source, relations.typed))
    flow.create_table(relations.resolved, sql.resolved_sql(source, relations.referenced, MASTERS))
    flow.create_table(relations.events, sql.events_sql(name, source, relations.resolved, run_id))
    flow.create_table(
        relations.rejects, sql.rejects_sql(name, relations.typed, relations.resolved, run_id)
    )
    records = int(flow.scalar(f"select count(*) from {quote(relations.mapped)}") or 0)
    counted = flow.to_arrow(sql.event_counts_sql(relations.resolved)).to_pylist()[0]
    # Only `events` and `rejects` are read later (`conformed_tables`).
    for stage in ("mapped", "timestamps", "quantities", "amounts", "currencies", "typed"):
        flow.drop(getattr(relations, stage))
    flow.drop(relations.referenced)
    flow.drop(relations.resolved)
    return EventCounts(
        source=name,
        records=records,
        conformed=counted["conformed"],
        rejected=records - counted["conformed"],
        with_customer_master=counted["with_customer_master"],
        with_product_master=counted["with_product_master"],
        unresolved_customer=counted["unresolved_customer"],
        unresolved_product=counted["unresolved_product"],
    )


def _union(relations: Sequence[str], columns: Sequence[str], order: str) -> str:
    """SQL: `columns` of every relation, one after another, each in `order`."""
    if not relations:
        return ""
    picked = ", ".join(quote(c) for c in columns)
    parts = [f"select {i} as _source_order, * from {quote(r)}" for i, r in enumerate(relations)]
    return f"select {picked} from ({' union all '.join(parts)}) u order by _source_order, {order}"


def conformed_tables(flow: Dataflow, names: Sequence[str]) -> tuple[pa.Table, pa.Table]:
    """The events and rejects of the conformed sources `names`, in source then landing order."""
    events = [sql.EventRelations(f"events__{n}").events for n in names]
    rejects = [sql.EventRelations(f"events__{n}").rejects for n in names]
    if not names:
        return EVENT_SCHEMA.empty_table(), REJECT_SCHEMA.empty_table()
    conformed = flow.to_arrow(_union(events, EVENT_SCHEMA.names, LANDING_SEQUENCE))
    rejected = flow.to_arrow(_union(rejects, REJECT_SCHEMA.names, f"_stage, {LANDING_SEQUENCE}"))
    return conformed.cast(EVENT_SCHEMA), rejected.cast(REJECT_SCHEMA)


@contextmanager
def _dataflow(config: E360Config) -> Iterator[Dataflow]:
    flow = dataflow_for(config.deployment.engine, config.root)
    try:
        yield flow
    finally:
        if isinstance(flow, DuckDBDataflow):
            flow.close()


def build_conformed_events(
    config: E360Config,
    lake: Lake,
    customer_masters: pa.Table,
    product_masters: pa.Table,
    run_id: str,
) -> list[EventCounts]:
    """Rebuild `conformed.events` (and `conformed.event_rejects`) from every event source.

    `customer_masters`, `product_masters`: record_id -> master_id. Rebuilt from the raw zone
    every run: an event rejected because its customer had not landed yet conforms in the first
    run after the customer lands.
    """
    counts = []
    with _dataflow(config) as flow:
        register_masters(flow, customer_masters, product_masters)
        names = list(config.sources_of("event"))
        for name, source in config.sources_of("event").items():
            latest = f"events__{name}__latest"
            register_latest_raw(flow, lake, name, source, latest)
            counts.append(conform_source(flow, name, source, latest, run_id))
            flow.drop(latest)
        events, rejects = conformed_tables(flow, names)
    lake.replace(
        "conformed",
        CONFORMED_EVENTS,
        events,
        description="Conformed events carrying customer and product master ids",
    )
    lake.replace(
        "conformed",
        CONFORMED_EVENT_REJECTS,
        rejects,
        description="Source events that could not be conformed, with the reason",
    )
    return counts


def conform_events(
    name: str,
    source: SourceConfig,
    rows: Sequence[Mapping[str, Any]],
    customer_masters: pa.Table,
    product_masters: pa.Table,
    run_id: str,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], EventCounts]:
    """Rows of one event source, given in memory (newest versions, in landing order) ->
    (events, rejects, counts), conformed as `build_conformed_events` conforms the raw zone."""
    table = pa.Table.from_pylist([dict(r) for r in rows]) if rows else None
    if table is None or source.key not in table.column_names:
        table = pa.table({source.key: pa.array([None] * len(rows), pa.string())})
    latest = as_text_payload(table, source.key).drop_columns(["_key"])
    latest = latest.append_column(LANDING_SEQUENCE, pa.array(range(len(rows)), pa.int64()))
    flow = DuckDBDataflow()
    try:
        register_masters(flow, customer_masters, product_masters)
        flow.register("events__given", latest)
        counts = conform_source(flow, name, source, "events__given", run_id)
        events, rejects = conformed_tables(flow, [name])
    finally:
        flow.close()
    return events.to_pylist(), rejects.to_pylist(), counts
