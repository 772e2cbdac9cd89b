"""One entity's resolution run: model (found or trained), scored pairs, clusters."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pyarrow as pa
from splink import Linker

from e360.config import E360Config
from e360.errors import MatchError
from matching.clustering import cluster
from matching.engine import close_backend, register, splink_backend
from matching.model import (
    UNIQUE_ID,
    ModelVersion,
    find_model,
    linker_from_model,
    matching_fingerprint,
    save_model,
    train,
)
from stewardship.store import Constraints

PAIR_COLUMNS = (
    "record_id_l",
    "record_id_r",
    "source_l",
    "source_r",
    "match_weight",
    "match_probability",
)


@dataclass
class Resolution:
    entity: str
    model: ModelVersion | None  # None when there were fewer than two records to compare
    trained: bool
    pairs: pa.Table  # PAIR_COLUMNS, pairs scoring at least pairs_min_probability
    clusters: pa.Table  # record_id, cluster_id
    timings: dict[str, float]  # seconds: train (or load), predict, cluster
    # Steward must-links that contradicted a steward cannot-link, and were not applied.
    refused_must_links: list[tuple[str, str]] = field(default_factory=list)


def resolve(
    config: E360Config,
    entity: str,
    records: pa.Table,
    *,
    retrain: bool = False,
    constraints: Constraints | None = None,
) -> Resolution:
    """Score and cluster `records` (the standardized table of one entity) under the stewards'
    `constraints`."""
    constraints = constraints or Constraints()
    matching = config.entities[entity].matching  # type: ignore[index]
    if records.num_rows < 2:
        # Nothing to compare (a source that has not delivered yet): every record is its own
        # entity, and a model is neither needed nor trainable.
        ids = records.column(UNIQUE_ID).cast(pa.string())
        clusters = pa.table({"record_id": ids, "cluster_id": ids})
        return Resolution(entity, None, False, _empty_pairs(), clusters, {})
    backend = splink_backend(config)
    input_table = register(backend, records, f"{entity}_records")
    fingerprint = matching_fingerprint(matching)
    model = None if retrain else find_model(config.models_dir, entity, fingerprint)
    clock = _Clock()
    try:
        if model is None:
            linker = train(input_table, matching)
            model = save_model(
                linker, config.models_dir, entity, fingerprint, {"records": records.num_rows}
            )
            trained = True
        else:
            linker = linker_from_model(input_table, model, matching)
            trained = False
        clock.lap("train" if trained else "load_model")
        # Every blocked pair is scored: the clear non-matches are clustering constraints.
        predictions = linker.inference.predict()
        table = predictions.physical_name
        pairs = _query(linker, stored_pairs_sql(table, matching.pairs_min_probability))
        cannot_links = (
            _query(linker, cannot_links_sql(table, matching.threshold, matching.cannot_link_below))
            if matching.cannot_link_below is not None
            else None
        )
        clock.lap("predict")
        clustering = cluster(
            records.column(UNIQUE_ID).to_pylist(),
            _links_at(pairs, matching.threshold),
            _pairs_of(cannot_links),
            must_links=constraints.must_links,
            steward_cannot_links=constraints.cannot_links,
        )
        clusters = clustering.clusters
        cluster_table = pa.table(
            {
                "record_id": pa.array(list(clusters), pa.string()),
                "cluster_id": pa.array(list(clusters.values()), pa.string()),
            }
        )
        clock.lap("cluster")
    except MatchError:
        raise
    except Exception as exc:  # Splink raises plain exceptions; name the entity and stage.
        raise MatchError(f"{entity}: Splink failed: {type(exc).__name__}: {exc}") from exc
    finally:
        close_backend(backend)
    return Resolution(
        entity, model, trained, pairs, cluster_table, clock.laps, clustering.refused_must_links
    )


def _empty_pairs() -> pa.Table:
    types = {"match_weight": pa.float64(), "match_probability": pa.float64()}
    return pa.table({c: pa.array([], types.get(c, pa.string())) for c in PAIR_COLUMNS})


def stored_pairs_sql(predictions: str, min_probability: float) -> str:
    """The scored pairs worth keeping: everything a steward or a threshold might look at."""
    return (
        f"select {', '.join(PAIR_COLUMNS)} from {predictions} "
        f"where match_probability >= {float(min_probability)!r}"
    )


def cannot_links_sql(predictions: str, threshold: float, below: float) -> str:
    """Clear non-matches between records that have a match somewhere (only those can chain)."""
    return f"""
    with linked as (
        select record_id_l as record_id from {predictions}
        where match_probability >= {float(threshold)!r}
        union
        select record_id_r from {predictions} where match_probability >= {float(threshold)!r}
    )
    select record_id_l, record_id_r from {predictions}
    where match_probability < {float(below)!r}
      and record_id_l in (select record_id from linked)
      and record_id_r in (select record_id from linked)
    """


def _query(linker: Linker, sql: str) -> pa.Table:
    return linker.misc.query_sql(sql, output_type="splink_df").as_pyarrow_table()


def _links_at(pairs: pa.Table, threshold: float) -> list[tuple[str, str, float]]:
    return [
        (left, right, probability)
        for left, right, probability in zip(
            pairs.column("record_id_l").to_pylist(),
            pairs.column("record_id_r").to_pylist(),
            pairs.column("match_probability").to_pylist(),
            strict=True,
        )
        if probability >= threshold
    ]


def _pairs_of(table: pa.Table | None) -> list[tuple[str, str]]:
    if table is None:
        return []
    return list(
        zip(
            table.column("record_id_l").to_pylist(),
            table.column("record_id_r").to_pylist(),
            strict=True,
        )
    )


class _Clock:
    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now
