"""One entity's resolution run: model (pinned, found or trained), scored pairs, clusters.

Incremental by default: a run rescores only records that are new or changed since the last
run (Splink `predict_within` the new records and `predict_between` new and unchanged ones),
keeps the stored scores of unchanged pairs, and re-clusters only the components those
records touch. Every score depends on the pair and the model version alone (term
frequencies are frozen with the model), so the result equals a full run on the same data up
to master-id assignment; `full=True` rescores and re-clusters everything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
from splink import Linker

from e360.config import E360Config, MatchingConfig
from e360.errors import MatchError
from matching.clustering import affected_records, cluster
from matching.engine import close_backend, register, splink_backend
from matching.model import (
    UNIQUE_ID,
    ModelVersion,
    linker_from_model,
    register_term_frequencies,
    select_model,
    train_and_save,
)
from matching.timing import Laps
from stewardship.store import Constraints

PAIR_COLUMNS = (
    "record_id_l",
    "record_id_r",
    "source_l",
    "source_r",
    "match_weight",
    "match_probability",
)
# Columns that say when or how a record arrived, not what it is: they never trigger rescoring.
_BOOKKEEPING = frozenset({"source_updated_at"})


@dataclass(frozen=True)
class PreviousRun:
    """What the last accepted run left for the next one to build on."""

    scores: pa.Table  # PAIR_COLUMNS: every pair a later clustering may need
    hashes: dict[str, str]  # record_id -> record_hash
    masters: dict[str, str]  # record_id -> master_id
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


def resolve(
    config: E360Config,
    entity: str,
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
    matching = config.entities[entity].matching  # type: ignore[index]
    if records.num_rows < 2:
        # Nothing to compare (a source that has not delivered yet): every record is its own
        # entity, and a model is neither needed nor trainable.
        ids = records.column(UNIQUE_ID).cast(pa.string())
        clusters = pa.table({"record_id": ids, "cluster_id": ids})
        return Resolution(entity, None, False, _empty_pairs(), clusters, {})
    backend = splink_backend(config)
    clock = Laps()
    try:
        all_records = register(backend, records, f"{entity}_records")
        model = None if retrain else select_model(config, entity)
        trained = model is None
        if model is None:
            model = train_and_save(config, entity, all_records, records.num_rows)
        linker = linker_from_model(all_records, model, matching)
        register_term_frequencies(linker, model)
        clock.lap("train" if trained else "load_model")

        hashes = record_hashes(records)
        scoring_key = _scoring_key(model, matching)
        clustering_key = _clustering_key(matching)
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
            changed = {r for r, h in current.items() if previous.hashes.get(r) != h}
            removed = set(previous.hashes) - set(current)
            scores = _rescore(
                linker, backend, records, previous.scores, changed, changed | removed, matching
            )
            mode: Literal["full", "incremental"] = "incremental"
        else:
            changed, removed = set(current), set()
            scores = _score_all(linker, all_records, matching)
            mode = "full"
        clock.lap("predict")

        links = _links_at(scores, matching.threshold)
        cannot_links = _cannot_links(scores, links, matching)
        must_links = constraints.must_links
        affected: set[str] | None = None
        if (
            mode == "incremental"
            and previous is not None
            and previous.clustering_key == clustering_key
            and set(previous.masters) >= set(current) - changed
        ):
            touched = changed | removed | set(constraints.pending_records)
            old_links = _links_at(previous.scores, matching.threshold)
            affected = affected_records(
                touched,
                [(a, b) for a, b, _ in old_links] + list(must_links),
                [(a, b) for a, b, _ in links] + list(must_links),
            ) & set(current)
        if affected is None:
            clustering = cluster(
                current,
                links,
                cannot_links,
                must_links=must_links,
                steward_cannot_links=constraints.cannot_links,
            )
            clusters = clustering.clusters
        else:
            assert previous is not None
            inside = [(a, b, p) for a, b, p in links if a in affected]
            clustering = cluster(
                sorted(affected),
                inside,
                [(a, b) for a, b in cannot_links if a in affected],
                must_links=must_links,
                steward_cannot_links=constraints.cannot_links,
            )
            clusters = {r: previous.masters[r] for r in current if r not in affected}
            clusters.update(clustering.clusters)
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
    pairs = scores.filter(pc.greater_equal(scores["match_probability"], matching.pairs_min_probability))
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
    )


def record_hashes(records: pa.Table) -> pa.Table:
    """record_id -> a hash of everything about the record that matching can see."""
    columns = [
        c
        for c in records.column_names
        if c != UNIQUE_ID and not c.startswith("_") and c not in _BOOKKEEPING
    ]
    parts = ", ".join(
        f"coalesce(cast({_q(c)} as varchar), chr(0))" for c in sorted(columns)
    )
    con = duckdb.connect()
    try:
        con.register("records", records)
        return con.sql(
            f"select cast({UNIQUE_ID} as varchar) as record_id, "
            f"md5(concat_ws(chr(31), {parts})) as record_hash from records order by 1"
        ).to_arrow_table()
    finally:
        con.close()


def _score_all(linker: Linker, records: object, matching: MatchingConfig) -> pa.Table:
    predictions = linker.inference.predict_within(records, warning_mode="never")
    return _query(linker, stored_scores_sql(predictions.physical_name, matching))


def _rescore(
    linker: Linker,
    backend: object,
    records: pa.Table,
    previous_scores: pa.Table,
    changed: set[str],
    dropped: set[str],
    matching: MatchingConfig,
) -> pa.Table:
    """Previous scores of untouched pairs, plus fresh scores of every pair with a changed
    record: within the changed records and between them and the unchanged ones."""
    keep = pc.invert(
        pc.or_(
            pc.is_in(previous_scores["record_id_l"], pa.array(sorted(dropped), pa.string())),
            pc.is_in(previous_scores["record_id_r"], pa.array(sorted(dropped), pa.string())),
        )
    )
    kept = previous_scores.filter(keep).select(list(PAIR_COLUMNS))
    if not changed:
        return kept
    is_changed = pc.is_in(records[UNIQUE_ID].cast(pa.string()), pa.array(sorted(changed), pa.string()))
    new = register(backend, records.filter(is_changed), "records_new")  # type: ignore[arg-type]
    parts = [kept]
    within = linker.inference.predict_within(new, warning_mode="never")
    parts.append(_query(linker, stored_scores_sql(within.physical_name, matching)))
    unchanged_rows = records.filter(pc.invert(is_changed))
    if unchanged_rows.num_rows:
        old = register(backend, unchanged_rows, "records_unchanged")  # type: ignore[arg-type]
        between = linker.inference.predict_between(new, old, warning_mode="never")
        parts.append(_query(linker, stored_scores_sql(between.physical_name, matching)))
    return pa.concat_tables([p.cast(kept.schema) for p in parts])


def stored_scores_sql(predictions: str, matching: MatchingConfig) -> str:
    """The pairs worth keeping, left id first: everything a steward, a threshold or a
    cannot-link might need later; the undecided middle is dropped."""
    keep = f"match_probability >= {float(matching.pairs_min_probability)!r}"
    if matching.cannot_link_below is not None:
        keep += f" or match_probability < {float(matching.cannot_link_below)!r}"
    swap = "record_id_l > record_id_r"
    return f"""
    select
        case when {swap} then record_id_r else record_id_l end as record_id_l,
        case when {swap} then record_id_l else record_id_r end as record_id_r,
        case when {swap} then source_r else source_l end as source_l,
        case when {swap} then source_l else source_r end as source_r,
        cast(match_weight as double) as match_weight,
        cast(match_probability as double) as match_probability
    from {predictions}
    where {keep}
    """


def _cannot_links(
    scores: pa.Table, links: list[tuple[str, str, float]], matching: MatchingConfig
) -> list[tuple[str, str]]:
    """Clear non-matches between records that have a match somewhere (only those can chain)."""
    if matching.cannot_link_below is None:
        return []
    linked = {a for a, _, _ in links} | {b for _, b, _ in links}
    below = scores.filter(pc.less(scores["match_probability"], matching.cannot_link_below))
    return [
        (a, b)
        for a, b in zip(
            below.column("record_id_l").to_pylist(),
            below.column("record_id_r").to_pylist(),
            strict=True,
        )
        if a in linked and b in linked
    ]


def _scoring_key(model: ModelVersion, matching: MatchingConfig) -> str:
    return f"{model.label}|{model.fingerprint}|{matching.pairs_min_probability}|{matching.cannot_link_below}"


def _clustering_key(matching: MatchingConfig) -> str:
    return f"{matching.threshold}|{matching.cannot_link_below}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty_pairs() -> pa.Table:
    types = {"match_weight": pa.float64(), "match_probability": pa.float64()}
    return pa.table({c: pa.array([], types.get(c, pa.string())) for c in PAIR_COLUMNS})


def _query(linker: Linker, sql: str) -> pa.Table:
    return linker.misc.query_sql(sql, output_type="splink_df").as_pyarrow_table()


def _links_at(pairs: pa.Table, threshold: float) -> list[tuple[str, str, float]]:
    above = pairs.filter(pc.greater_equal(pairs["match_probability"], threshold))
    return list(
        zip(
            above.column("record_id_l").to_pylist(),
            above.column("record_id_r").to_pylist(),
            above.column("match_probability").to_pylist(),
            strict=True,
        )
    )
