"""One entity's resolution run: model (pinned, found or trained), scored pairs, clusters.

Incremental by default: a run rescores only records that are new or changed since the last
run (Splink `predict_within` the new records and `predict_between` new and unchanged ones),
keeps the stored scores of unchanged pairs, and re-clusters only the components those
records touch. Every score depends on the pair and the model version alone (term
frequencies are frozen with the model), so the result equals a full run on the same data up
to master-id assignment; `full=True` rescores and re-clusters everything.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from e360.config import E360Config, MatchingConfig
from e360.entities import MasteredEntity
from e360.sql import quote
from matching.resolution.blocking import as_matched, within_budget
from matching.resolution.clustering import affected_records, cluster
from matching.resolution.constraints import Constraints
from matching.resolution.engine import register, splink_backend, splink_session
from matching.resolution.scoring import (
    cannot_links,
    empty_pairs,
    links_at,
    rescore,
    score_all,
)
from matching.resolution.settings import UNIQUE_ID, exclusive_sources
from matching.resolution.thresholds import Threshold, link_threshold, review_band
from matching.resolution.timing import Laps
from matching.resolution.trainer import source_sizes, train_and_save
from matching.resolution.versions import (
    ModelVersion,
    linker_from_model,
    register_term_frequencies,
    select_model,
    training_report,
)

# Columns that say when or how a record arrived, not what it is: they never trigger rescoring.
_BOOKKEEPING = frozenset({"source_updated_at"})


@dataclass(frozen=True)
class PreviousRun:
    """What the last accepted run left for the next one to build on."""

    scores: pa.Table  # PAIR_COLUMNS: every pair a later clustering may need
    hashes: pa.Table  # record_id, record_hash
    masters: pa.Table  # record_id, master_id
    scoring_key: str  # model and storage thresholds the scores were made under
    clustering_key: str  # thresholds the clusters were made under


@dataclass
class Resolution:
    entity: str
    model: ModelVersion | None  # None when there were fewer than two records to compare
    trained: bool
    pairs: pa.Table  # PAIR_COLUMNS, pairs scoring at least pairs_min_probability
    clusters: pa.Table  # record_id, cluster_id (unaffected records: their previous master id)
    timings: dict[str, float]  # seconds: train (or load), predict, cluster
    # Steward must-links that contradicted a steward cannot-link, and were not applied.
    refused_must_links: list[tuple[str, str]] = field(default_factory=list)
    mode: Literal["full", "incremental"] = "full"
    scores: pa.Table | None = None  # what the next run builds on (None: nothing to store)
    hashes: pa.Table | None = None  # record_id, record_hash
    scoring_key: str = ""
    clustering_key: str = ""
    rescored_records: int = 0
    reclustered_records: int = 0
    threshold: Threshold | None = None  # the link threshold used (configured or auto)
    review_band: tuple[float, float] | None = None  # kept below an auto threshold
    training: dict[str, Any] | None = None  # the model's training report (model.TrainingReport)
    blocking: dict[str, Any] | None = None  # pairs per prediction rule (blocking.Budget)


def resolve(
    config: E360Config,
    entity: MasteredEntity,
    records: pa.Table,
    *,
    retrain: bool = False,
    constraints: Constraints | None = None,
    previous: PreviousRun | None = None,
    full: bool = False,
) -> Resolution:
    """Score and cluster `records` (the standardized table of one entity) under the stewards'
    `constraints`, building on `previous` unless `full`."""
    constraints = constraints or Constraints()
    matching = config.entities[entity].matching
    if records.num_rows < 2:
        # Nothing to compare (a source that has not delivered yet): every record is its own
        # entity, and a model is neither needed nor trainable.
        ids = records.column(UNIQUE_ID).cast(pa.string())
        clusters = pa.table({"record_id": ids, "cluster_id": ids})
        return Resolution(entity, None, False, empty_pairs(), clusters, {})
    # Stop-keys depend on every record: a record whose flags or buckets change is rescored.
    records = as_matched(records, entity, matching)
    backend = splink_backend(config)
    clock = Laps()
    with splink_session(backend, entity):
        all_records = register(backend, records, f"{entity}_records")
        exclusive = exclusive_sources(config, entity)
        model = None if retrain else select_model(config, entity)
        trained = model is None
        if model is None:
            model = train_and_save(
                config, entity, all_records, records.num_rows, sizes=source_sizes(records)
            )
        budget = within_budget(
            all_records, matching, record_count=records.num_rows, exclusive_sources=exclusive
        )
        matching = budget.matching
        linker = linker_from_model(all_records, model, matching, exclusive)
        register_term_frequencies(linker, model)
        clock.lap("train" if trained else "load_model")

        hashes = record_hashes(records)
        scoring_key = _scoring_key(model, matching)
        usable = (
            not full
            and previous is not None
            and previous.scoring_key == scoring_key
            and previous.scores is not None
        )
        current = dict(
            zip(
                hashes.column("record_id").to_pylist(),
                hashes.column("record_hash").to_pylist(),
                strict=True,
            )
        )
        if usable:
            assert previous is not None
            hashes_before = _by_record(previous.hashes, "record_hash")
            changed = {r for r, h in current.items() if hashes_before.get(r) != h}
            removed = set(hashes_before) - set(current)
            scores = rescore(
                linker, backend, records, previous.scores, changed, changed | removed, matching
            )
            mode: Literal["full", "incremental"] = "incremental"
        else:
            changed, removed = set(current), set()
            scores = score_all(linker, all_records, matching)
            mode = "full"
        clock.lap("predict")
    # Clustering needs no engine: closing it first gives its memory back (on 1M customers,
    # gigabytes of Splink's tables) before clustering and the masters take the process's.
    threshold = link_threshold(matching.threshold, scores.column("match_probability"))
    clustering_key = _clustering_key(threshold.value, matching, exclusive)
    groups = exclusive_groups(records, exclusive)
    links = links_at(scores, threshold.value)
    must_links = constraints.must_links
    model_cannot_links = cannot_links(scores, links, matching, must_links)
    affected: set[str] | None = None
    masters_before = (
        _by_record(previous.masters, "master_id")
        if mode == "incremental" and previous is not None
        else {}
    )
    if (
        mode == "incremental"
        and previous is not None
        and previous.clustering_key == clustering_key
        and set(masters_before) >= set(current) - changed
    ):
        touched = changed | removed | set(constraints.pending_records)
        old_links = links_at(previous.scores, threshold.value)
        affected = affected_records(
            touched,
            [(a, b) for a, b, _ in old_links] + list(must_links),
            [(a, b) for a, b, _ in links] + list(must_links),
        ) & set(current)
    if affected is None:
        clustering = cluster(
            current,
            links,
            model_cannot_links,
            must_links=must_links,
            steward_cannot_links=constraints.cannot_links,
            exclusive_groups=groups,
        )
        clusters = clustering.clusters
    else:
        assert previous is not None
        inside = [(a, b, p) for a, b, p in links if a in affected]
        clustering = cluster(
            sorted(affected),
            inside,
            [(a, b) for a, b in model_cannot_links if a in affected],
            must_links=must_links,
            steward_cannot_links=constraints.cannot_links,
            exclusive_groups=groups,
        )
        clusters = {r: masters_before[r] for r in current if r not in affected}
        clusters.update(clustering.clusters)
    cluster_table = pa.table(
        {
            "record_id": pa.array(list(clusters), pa.string()),
            "cluster_id": pa.array(list(clusters.values()), pa.string()),
        }
    )
    clock.lap("cluster")
    pairs = scores.filter(
        pc.greater_equal(scores["match_probability"], matching.pairs_min_probability)
    )
    return Resolution(
        entity,
        model,
        trained,
        pairs,
        cluster_table,
        clock.laps,
        clustering.refused_must_links,
        mode=mode,
        scores=scores,
        hashes=hashes,
        scoring_key=scoring_key,
        clustering_key=clustering_key,
        rescored_records=len(changed),
        reclustered_records=len(clusters) if affected is None else len(affected),
        threshold=threshold,
        review_band=review_band(matching.review_band, threshold),
        training=training_report(model),
        blocking=budget.as_dict(),
    )


def _by_record(table: pa.Table, column: str) -> dict[str, str]:
    """record_id -> `column` of a previous run's table (incremental runs look records up)."""
    return dict(
        zip(table.column("record_id").to_pylist(), table.column(column).to_pylist(), strict=True)
    )


def record_hashes(records: pa.Table) -> pa.Table:
    """record_id -> a hash of everything about the record that matching can see."""
    columns = [
        c
        for c in records.column_names
        if c != UNIQUE_ID and not c.startswith("_") and c not in _BOOKKEEPING
    ]
    parts = ", ".join(f"coalesce(cast({quote(c)} as varchar), chr(0))" for c in sorted(columns))
    con = duckdb.connect()
    try:
        con.register("records", records)
        return con.sql(
            f"select cast({UNIQUE_ID} as varchar) as record_id, "
            f"md5(concat_ws(chr(31), {parts})) as record_hash from records order by 1"
        ).to_arrow_table()
    finally:
        con.close()


def _scoring_key(model: ModelVersion, matching: MatchingConfig) -> str:
    # The rule count: a rule left out over the comparison budget changes which pairs exist.
    return (
        f"{model.label}|{model.fingerprint}|{matching.pairs_min_probability}"
        f"|{matching.cannot_link_below}|{len(matching.blocking_rules)}"
    )


def _clustering_key(threshold: float, matching: MatchingConfig, exclusive: frozenset[str]) -> str:
    key = f"{threshold}|{matching.cannot_link_below}"
    return key + ("|" + ",".join(sorted(exclusive)) if exclusive else "")


def exclusive_groups(records: pa.Table, exclusive: Collection[str]) -> dict[str, str] | None:
    """record_id -> source for the records of one-record-per-master sources (clustering keeps
    two of one group apart); None when there are none."""
    if not exclusive:
        return None
    return {
        str(r): s
        for r, s in zip(
            records.column(UNIQUE_ID).to_pylist(), records.column("source").to_pylist(), strict=True
        )
        if s in exclusive
    }
