"""Writes one entity's master zone: xref, golden, id history, scored pairs and review queue."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pyarrow as pa

from e360.config import E360Config
from e360.entities import CANONICAL_ATTRIBUTES
from e360.lake import Lake
from matching.masters import (
    assign_master_ids,
    golden_table,
    id_history_table,
    pairs_tables,
    xref_table,
)
from matching.resolve import resolve


@dataclass
class MatchSummary:
    entity: str
    records: int
    masters: int
    pairs: int
    review_queue: int
    model_version: str
    model_trained: bool
    id_churn: float
    id_events: dict[str, int]
    timings: dict[str, float]
    snapshots: dict[str, int | None]
    record_masters: dict[str, str]  # record_id -> master_id, for events and evaluation

    def as_dict(self) -> dict[str, object]:
        data = {k: v for k, v in self.__dict__.items() if k != "record_masters"}
        return data


def match_entity(
    config: E360Config, lake: Lake, entity: str, run_id: str, *, retrain: bool = False
) -> MatchSummary:
    records = lake.read("standardized", entity)
    if records is None:
        records = pa.table({"record_id": pa.array([], pa.string())})
    resolution = resolve(config, entity, records, retrain=retrain)
    started = time.perf_counter()
    settings = config.entities[entity]  # type: ignore[index]
    now = datetime.now(UTC).replace(tzinfo=None)

    clusters = dict(
        zip(
            resolution.clusters.column("record_id").to_pylist(),
            resolution.clusters.column("cluster_id").to_pylist(),
            strict=True,
        )
    )
    previous = _previous_masters(lake, entity)
    ids = assign_master_ids(clusters, previous, config.id_prefix(entity))
    record_masters = {r: ids.master_of_cluster[c] for r, c in clusters.items()}

    con = duckdb.connect()
    con.register("standardized_records", records)
    con.register(
        "record_masters",
        pa.table({"record_id": list(record_masters), "master_id": list(record_masters.values())}),
    )
    con.execute(
        "create temp table standardized_members as select s.*, m.master_id "
        "from standardized_records s join record_masters m using (record_id)"
    )
    con.execute(
        "create temp view members as "
        "select record_id, source, source_key, master_id from standardized_members"
    )
    con.register("pairs", resolution.pairs)
    xref = xref_table(con, threshold=settings.matching.threshold, run_id=run_id, at=now)
    golden = golden_table(con, CANONICAL_ATTRIBUTES[entity], settings.survivorship, run_id=run_id)
    pairs, queue = pairs_tables(con, settings.matching.review_band, run_id=run_id, at=now)
    con.close()

    properties = {"e360.run_id": run_id, "e360.model": resolution.model.label}
    snapshots = {
        f"{entity}_xref": lake.replace(
            "master",
            f"{entity}_xref",
            xref,
            properties=properties,
            description=f"{entity} source record -> master id",
        ),
        f"{entity}_golden": lake.replace(
            "master",
            f"{entity}_golden",
            golden,
            properties=properties,
            description=f"One golden {entity} record per master",
        ),
        f"{entity}_pairs": lake.replace(
            "master",
            f"{entity}_pairs",
            pairs,
            properties=properties,
            description=f"Scored {entity} record pairs",
        ),
        f"{entity}_review_queue": lake.replace(
            "master",
            f"{entity}_review_queue",
            queue,
            properties=properties,
            description=f"{entity} pairs in the review band, for data stewards",
        ),
    }
    if ids.events:
        history = id_history_table(ids.events, run_id, now)
        snapshots[f"{entity}_id_history"] = lake.append(
            "master",
            f"{entity}_id_history",
            history,
            properties=properties,
            description=f"Every {entity} master id event: created, merged_into, split_from, retired",
        )
    event_counts: dict[str, int] = {}
    for _, event, _ in ids.events:
        event_counts[event] = event_counts.get(event, 0) + 1
    return MatchSummary(
        entity=entity,
        records=records.num_rows,
        masters=golden.num_rows,
        pairs=pairs.num_rows,
        review_queue=queue.num_rows,
        model_version=resolution.model.label,
        model_trained=resolution.trained,
        id_churn=round(ids.churn, 6),
        id_events=event_counts,
        timings={**resolution.timings, "masters": round(time.perf_counter() - started, 3)},
        snapshots=snapshots,
        record_masters=record_masters,
    )


def _previous_masters(lake: Lake, entity: str) -> dict[str, str]:
    xref = lake.read("master", f"{entity}_xref", columns=("record_id", "master_id"))
    if xref is None:
        return {}
    return dict(
        zip(xref.column("record_id").to_pylist(), xref.column("master_id").to_pylist(), strict=True)
    )
