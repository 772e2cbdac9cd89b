"""Writes one entity's master zone: xref, golden, id history, scored pairs and review queue."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc

from e360.config import E360Config
from e360.dataflow import Dataflow, DuckDBDataflow
from e360.entities import CANONICAL_ATTRIBUTES, MasteredEntity
from e360.errors import MatchError
from e360.lake import Lake
from e360.zones import MasterTable, display_columns, master_table_name, standardized_table_name
from matching.mastering.assignment import (
    CLUSTERS,
    PREVIOUS,
    RECORD_MASTERS,
    RELATIONS,
    MasterIds,
    NewIds,
    assign_master_ids,
    clusters_relation,
    previous_relation,
)
from matching.mastering.masters import (
    arrow_result,
    golden_table,
    id_history_table,
    pairs_tables,
    xref_table,
)
from matching.resolution.constraints import StewardDecisions
from matching.resolution.engine import dataflow_for
from matching.resolution.resolve import PreviousRun, resolve


@dataclass
class MatchSummary:
    entity: str
    records: int
    masters: int
    pairs: int
    review_queue: int
    model_version: str | None  # None when there was nothing to score
    model_trained: bool
    id_churn: float
    id_events: dict[str, int]
    written: bool  # False when the id churn limit stopped the write
    timings: dict[str, float]
    snapshots: dict[str, int | None]
    record_masters: pa.Table  # record_id, master_id: for events and evaluation
    steward_constraints: dict[str, int] = field(default_factory=dict)
    mode: str = "full"  # or incremental
    rescored_records: int = 0
    reclustered_records: int = 0
    refused_must_links: list[tuple[str, str]] = field(default_factory=list)
    threshold: dict[str, object] | None = None  # the link threshold used, expected P/R at it
    prior: dict[str, object] | None = None  # the model's λ, where it came from, and why
    training_warnings: list[str] = field(default_factory=list)  # fallbacks training took
    blocking: dict[str, object] | None = None  # pairs per prediction rule, any left out

    def as_dict(self) -> dict[str, object]:
        data = {k: v for k, v in self.__dict__.items() if k != "record_masters"}
        return data


SCORING_KEY = "e360.scoring_key"
CLUSTERING_KEY = "e360.clustering_key"
RUN_ID = "e360.run_id"


def match_entity(
    config: E360Config,
    lake: Lake,
    entity: MasteredEntity,
    run_id: str,
    *,
    decisions: StewardDecisions,
    retrain: bool = False,
    full: bool = False,
    new_ids: NewIds | None = None,
) -> MatchSummary:
    """Resolve the entity under the stewards' `decisions` and write its master zone
    (`new_ids`: makes new master ids; by default `e360.ids.master_ids`)."""
    records = lake.read("standardized", standardized_table_name(entity))
    if records is None:
        raise MatchError(f"standardized.{entity} does not exist: run the standardize stage first")
    return _match_entity(
        config,
        lake,
        entity,
        run_id,
        records,
        decisions,
        retrain=retrain,
        full=full,
        new_ids=new_ids,
    )


def previous_run(lake: Lake, entity: str) -> PreviousRun | None:
    """The state the last accepted run left, or None when it is missing or inconsistent
    (then the run is a full one)."""
    scores_table = lake.table("master", master_table_name(entity, "scores"))
    snapshot = scores_table.current_snapshot() if scores_table is not None else None
    if snapshot is None:
        return None
    summary = snapshot.summary
    props = dict(summary.additional_properties) if summary is not None else {}
    scores = lake.read("master", master_table_name(entity, "scores"))
    hashes = lake.read("master", master_table_name(entity, "record_hashes"))
    xref = lake.read(
        "master", master_table_name(entity, "xref"), columns=("record_id", "master_id", "run_id")
    )
    if scores is None or hashes is None or xref is None:
        return None
    # Written by separate commits: only state from one and the same run fits together.
    if set(pc.unique(xref.column("run_id")).to_pylist()) - {props.get(RUN_ID)}:
        return None
    return PreviousRun(
        scores=scores,
        hashes=hashes.select(["record_id", "record_hash"]),
        masters=xref.select(["record_id", "master_id"]),
        scoring_key=props.get(SCORING_KEY, ""),
        clustering_key=props.get(CLUSTERING_KEY, ""),
    )


def _match_entity(
    config: E360Config,
    lake: Lake,
    entity: MasteredEntity,
    run_id: str,
    records: pa.Table,
    decisions: StewardDecisions,
    *,
    retrain: bool,
    full: bool,
    new_ids: NewIds | None = None,
) -> MatchSummary:
    constraints = decisions.constraints(entity)
    previous = None if full else previous_run(lake, entity)
    shown = display_columns(entity)
    # Matching never reads display values: without them Splink's tables stay as small as
    # before, and a record whose writing alone changed (case, accents) is not rescored.
    resolution = resolve(
        config,
        entity,
        records.drop_columns([c for c in shown.values() if c in records.column_names]),
        retrain=retrain,
        constraints=constraints,
        previous=previous,
        full=full,
    )
    started = time.perf_counter()
    settings = config.entities[entity]
    now = datetime.now(UTC).replace(tzinfo=None)

    # The last run's state already holds its xref: read the lake once.
    masters_before = previous.masters if previous is not None else record_masters(lake, entity)
    earlier = lake.read(
        "master",
        master_table_name(entity, "review_queue"),
        columns=("record_id_l", "record_id_r", "queued_at"),
    )
    flow = dataflow_for(config.deployment.engine, config.root)
    try:
        zone = master_zone(
            flow,
            config,
            entity,
            records=records,
            clusters=resolution.clusters,
            previous_masters=masters_before,
            pairs=resolution.pairs,
            threshold=resolution.threshold.value if resolution.threshold else 1.0,
            review_band=resolution.review_band or settings.matching.review_band,
            run_id=run_id,
            at=now,
            previous_queue=earlier,
            new_ids=new_ids,
        )
    finally:
        release(flow)
    ids, xref, golden, pairs, queue = zone.ids, zone.xref, zone.golden, zone.pairs, zone.queue

    model_label = resolution.model.label if resolution.model else None
    # Beyond the churn limit nothing is written: the lake keeps the last accepted masters, so
    # a rerun judges the same change again instead of waving it through.
    written = ids.churn <= config.quality.max_id_churn
    snapshots: dict[str, int | None] = {}
    if written:
        properties = {"e360.run_id": run_id, "e360.model": model_label or "none"}
        # History first: if a later commit fails, the events that explain the ids survive.
        history = id_history_table(ids.events, run_id, now)
        tables: list[tuple[MasterTable, pa.Table, str]] = [
            (
                "id_history",
                history,
                "Every master id event: created, merged_into, split_from, retired",
            ),
            ("xref", xref, "source record -> master id"),
            ("golden", golden, "one golden record per master, with provenance"),
            ("pairs", pairs, "scored record pairs"),
            ("review_queue", queue, "pairs in the review band, for data stewards"),
        ]
        state = properties
        if resolution.scores is not None and resolution.hashes is not None:
            # Last: the next run trusts this state only beside an xref of the same run.
            state = {
                **properties,
                SCORING_KEY: resolution.scoring_key,
                CLUSTERING_KEY: resolution.clustering_key,
            }
            tables += [
                ("record_hashes", resolution.hashes, "what each record looked like to matching"),
                ("scores", resolution.scores, "every pair score the next run builds on"),
            ]
        for kind, table, description in tables:
            write = lake.append if kind == "id_history" else lake.replace
            snapshots[master_table_name(entity, kind)] = write(
                "master",
                master_table_name(entity, kind),
                table,
                properties=state if kind == "scores" else properties,
                description=f"{entity}: {description}",
            )
        decisions.mark_applied(constraints, run_id, resolution.refused_must_links)
    event_counts = ids.event_counts()
    return MatchSummary(
        entity=entity,
        records=records.num_rows,
        masters=golden.num_rows,
        pairs=pairs.num_rows,
        review_queue=queue.num_rows,
        model_version=model_label,
        model_trained=resolution.trained,
        id_churn=round(ids.churn, 6),
        id_events=event_counts,
        written=written,
        timings={**resolution.timings, "masters": round(time.perf_counter() - started, 3)},
        snapshots=snapshots,
        record_masters=zone.record_masters,
        steward_constraints={
            "must_links": len(constraints.must_links),
            "cannot_links": len(constraints.cannot_links),
        },
        refused_must_links=resolution.refused_must_links,
        mode=resolution.mode,
        rescored_records=resolution.rescored_records,
        reclustered_records=resolution.reclustered_records,
        threshold=resolution.threshold.as_dict() if resolution.threshold else None,
        prior=(resolution.training or {}).get("prior"),
        training_warnings=(resolution.training or {}).get("warnings") or [],
        blocking=resolution.blocking,
    )


@dataclass(frozen=True)
class MasterZone:
    """One run's master zone tables, before they are written."""

    ids: MasterIds
    record_masters: pa.Table  # record_id, master_id, in the clusters' order
    xref: pa.Table
    golden: pa.Table
    pairs: pa.Table
    queue: pa.Table


def master_zone(
    flow: Dataflow,
    config: E360Config,
    entity: MasteredEntity,
    *,
    records: pa.Table,
    clusters: pa.Table,
    previous_masters: pa.Table | None,
    pairs: pa.Table,
    threshold: float,
    review_band: tuple[float, float],
    run_id: str,
    at: datetime,
    previous_queue: pa.Table | None,
    new_ids: NewIds | None = None,
) -> MasterZone:
    """Master ids, xref, golden records, scored pairs and review queue of one run, computed
    on `flow` from the standardized `records`, the run's `clusters` (record_id, cluster_id)
    and scored `pairs`, and the last run's record masters and review queue."""
    flow.register(CLUSTERS, clusters_relation(clusters))
    flow.register(PREVIOUS, previous_relation(previous_masters))
    ids = assign_master_ids(flow, config.id_prefix(entity), new_ids)
    assigned = flow.to_arrow(
        f"select record_id, master_id from {RECORD_MASTERS} order by _position"
    )
    flow.register("standardized_records", records)
    flow.create_table(
        "standardized_members",
        "select s.*, m.master_id from standardized_records s "
        f"join {RECORD_MASTERS} m on m.record_id = s.record_id",
    )
    flow.create_table(
        "members", "select record_id, source, source_key, master_id from standardized_members"
    )
    flow.register("pairs", pairs)
    xref = xref_table(flow, threshold=threshold, run_id=run_id, at=at)
    golden = golden_table(
        flow,
        CANONICAL_ATTRIBUTES[entity],
        config.entities[entity].survivorship,
        run_id=run_id,
        displays=display_columns(entity),
    )
    scored, queue = pairs_tables(
        flow, review_band, run_id=run_id, at=at, previous_queue=previous_queue
    )
    return MasterZone(ids, arrow_result(assigned), xref, golden, scored, queue)


def record_masters(lake: Lake, entity: str) -> pa.Table:
    """record_id, master_id of the entity's current xref (empty before the first run)."""
    xref = lake.read(
        "master", master_table_name(entity, "xref"), columns=("record_id", "master_id")
    )
    return previous_relation(xref)


_MASTER_RELATIONS = (
    CLUSTERS,
    PREVIOUS,
    *RELATIONS,
    "standardized_records",
    "standardized_members",
    "members",
    "pairs",
)


def release(flow: Dataflow) -> None:
    """Free what `master_zone` left on `flow`."""
    # A Spark session outlives the run: what the master zone registered goes with it.
    if isinstance(flow, DuckDBDataflow):
        flow.close()
        return
    for name in _MASTER_RELATIONS:
        flow.drop(name)


def masters_by_record(masters: pa.Table) -> dict[str, str]:
    """record_id -> master_id of a record masters table, for callers that still look
    records up one by one (event conformance, the publish check)."""
    return dict(
        zip(
            masters.column("record_id").to_pylist(),
            masters.column("master_id").to_pylist(),
            strict=True,
        )
    )
