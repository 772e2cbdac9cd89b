"""The one scorer: every pair Splink scores, for the pipeline and `e360 resolve` alike.

Full (`predict_within` all records) or incremental (`predict_within` the changed records and
`predict_between` them and the unchanged ones, beside the kept scores of untouched pairs);
then the links at a threshold and the model's clear non-matches (cannot-links).
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from e360.config import MatchingConfig
from matching.resolution.clustering import component_labels
from matching.resolution.engine import default_memory_limit, register
from matching.resolution.settings import UNIQUE_ID
from matching.resolution.splink_adapter import DatabaseAPI, Linker, SplinkDataFrame, scores_only

PAIR_COLUMNS = (
    "record_id_l",
    "record_id_r",
    "source_l",
    "source_r",
    "match_weight",
    "match_probability",
)


def score_all(linker: Linker, records: SplinkDataFrame, matching: MatchingConfig) -> pa.Table:
    with scores_only(linker):
        predictions = linker.inference.predict_within(records, warning_mode="never")
    return _stored(linker, predictions, matching)


def _stored(linker: Linker, predictions: SplinkDataFrame, matching: MatchingConfig) -> pa.Table:
    """The pairs worth keeping, read out; the predictions table is dropped at once, so the
    engine's memory goes back before clustering needs the process's."""
    stored = query_table(linker, stored_scores_sql(predictions.physical_name, matching))
    predictions.drop_table_from_database_and_remove_from_cache()
    return stored


def rescore(
    linker: Linker,
    backend: DatabaseAPI,
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
    is_changed = pc.is_in(
        records[UNIQUE_ID].cast(pa.string()), pa.array(sorted(changed), pa.string())
    )
    new = register(backend, records.filter(is_changed), "records_new")
    parts = [kept]
    with scores_only(linker):
        within = linker.inference.predict_within(new, warning_mode="never")
    parts.append(_stored(linker, within, matching))
    unchanged_rows = records.filter(pc.invert(is_changed))
    if unchanged_rows.num_rows:
        old = register(backend, unchanged_rows, "records_unchanged")
        with scores_only(linker):
            between = linker.inference.predict_between(new, old, warning_mode="never")
        parts.append(_stored(linker, between, matching))
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


def cannot_links(
    scores: pa.Table,
    links: list[tuple[str, str, float]],
    matching: MatchingConfig,
    must_links: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, str]]:
    """Clear non-matches between records that have a match somewhere (only those can chain)
    and share a connected component of the links and the stewards' must-links: only those
    could end up in one cluster (`clustering.cluster` joins nothing across components). On a
    large population the others are nearly all of them."""
    if matching.cannot_link_below is None or not links:
        return []
    must = list(must_links)
    left = pa.array([a for a, _, _ in links] + [a for a, _ in must], pa.string())
    right = pa.array([b for _, b, _ in links] + [b for _, b in must], pa.string())
    records, roots = component_labels(left, right)
    # Records only stewards joined have no match of their own: they chain nothing.
    linked = pa.chunked_array([left[: len(links)], right[: len(links)]])
    kept = pc.is_in(records, value_set=pc.unique(linked))
    components = pa.table({"record_id": records.filter(kept), "root": roots.filter(kept)})
    # A join over millions of stored pairs, in parallel, on a connection of its own: the
    # scores stay where they are (copies of their id columns would cost gigabytes). Bounded
    # as the engine's connections are: DuckDB's own default is 80% of the machine.
    con = duckdb.connect()
    try:
        con.execute("SET memory_limit = ?", [default_memory_limit()])
        con.register("scores", scores.select(["record_id_l", "record_id_r", "match_probability"]))
        con.register("components", components)
        below = con.sql(
            cannot_links_sql("scores", "components", matching.cannot_link_below)
        ).fetchall()
    finally:
        con.close()
    return [(a, b) for a, b in below]


def cannot_links_sql(scores: str, components: str, below: float) -> str:
    """The pairs of `scores` under `below` whose records share a component (record_id, root),
    ordered by record ids."""
    return f"""
    select s.record_id_l, s.record_id_r
    from {scores} s
    join {components} l on l.record_id = s.record_id_l
    join {components} r on r.record_id = s.record_id_r
    where l.root = r.root and s.match_probability < {float(below)!r}
    order by s.record_id_l, s.record_id_r
    """


def empty_pairs() -> pa.Table:
    types = {"match_weight": pa.float64(), "match_probability": pa.float64()}
    return pa.table({c: pa.array([], types.get(c, pa.string())) for c in PAIR_COLUMNS})


def query_table(linker: Linker, sql: str) -> pa.Table:
    return linker.misc.query_sql(sql, output_type="splink_df").as_pyarrow_table()


def links_at(pairs: pa.Table, threshold: float) -> list[tuple[str, str, float]]:
    above = pairs.filter(pc.greater_equal(pairs["match_probability"], threshold))
    return list(
        zip(
            above.column("record_id_l").to_pylist(),
            above.column("record_id_r").to_pylist(),
            above.column("match_probability").to_pylist(),
            strict=True,
        )
    )
