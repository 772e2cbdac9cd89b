"""Explicit retraining (`e360 train <entity>`): a new model version, its charts, and the
steward decisions as labels.

A new version changes scores, so the next run is a full one; master ids still carry over by
member overlap, as on any run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e360.config import E360Config
from e360.entities import MasteredEntity, is_mastered
from e360.errors import MatchError
from e360.lake import Lake
from e360.zones import standardized_table_name
from matching.resolution.active_learning import ordered_pair
from matching.resolution.blocking import as_matched
from matching.resolution.constraints import StewardDecisions
from matching.resolution.engine import register, splink_backend, splink_session
from matching.resolution.settings import exclusive_sources
from matching.resolution.splink_adapter import SplinkDataFrame, retain_intermediate_columns
from matching.resolution.trainer import source_sizes, train_and_save
from matching.resolution.versions import (
    ModelVersion,
    chart_path,
    linker_from_model,
    register_term_frequencies,
)

_RECORDS = "records"
WATERFALL_PAIRS = 10


@dataclass(frozen=True)
class TrainedModel:
    model: ModelVersion
    records: int
    labels: int  # steward decisions (match and not a match) on current records
    charts: list[Path]
    fit: dict[str, Any] | None = None  # what the labels taught (active_learning.LabelFit)


def train_entity(
    config: E360Config, lake: Lake, entity: str, *, decisions: StewardDecisions | None = None
) -> TrainedModel:
    """Train a new version of the entity's model on its standardized records; with
    `decisions`, m, u and λ are re-estimated from the stewards' decisions too (match and not
    a match; unsure ones teach nothing)."""
    if not is_mastered(entity) or entity not in config.entities:
        raise MatchError(f"unknown entity '{entity}'; configured: {sorted(config.entities)}")
    records = lake.read("standardized", standardized_table_name(entity))
    if records is None or records.num_rows < 2:
        raise MatchError(
            f"standardized.{entity} has fewer than two records: run `e360 match` first"
        )
    labels = None
    if decisions is not None:
        labels = steward_labels(decisions, entity, set(records.column("record_id").to_pylist()))
        if not labels:
            raise MatchError(
                f"no steward 'match' or 'no_match' decisions on current {entity} records to "
                "train on"
            )
    records = as_matched(records, entity, config.entities[entity].matching)
    backend = splink_backend(config)
    with splink_session(backend, entity, "training"):
        table = register(backend, records, _RECORDS)
        model = train_and_save(
            config, entity, table, records.num_rows, labels, sizes=source_sizes(records)
        )
        charts = [chart_path(model, "match_weights"), chart_path(model, "m_u_parameters")]
        charts.append(write_waterfall(config, entity, model, table))
    fit = json.loads(model.path.read_text())["e360"].get("labels") if labels else None
    return TrainedModel(model, records.num_rows, len(labels or {}), charts, fit)


def steward_labels(
    decisions: StewardDecisions, entity: str, known: set[str]
) -> dict[tuple[str, str], bool]:
    """Pair -> is a match, for pairs of current records: the pairs stewards decided are the
    same entity, and those in force as not the same (a "not a match", or a split); a pair
    with both (a later split of a matched pair) counts as its latest, the cannot-link."""
    labels = {ordered_pair(a, b): True for a, b in decisions.matched_pairs(entity)}
    for a, b in decisions.constraints(entity).cannot_links:
        labels[ordered_pair(a, b)] = False
    return {p: y for p, y in labels.items() if p[0] in known and p[1] in known}


def write_waterfall(
    config: E360Config, entity: MasteredEntity, model: ModelVersion, records: SplinkDataFrame
) -> Path:
    """How the weights add up for the pairs closest to the match threshold (the hard ones)."""
    matching = config.entities[entity].matching
    exclusive = exclusive_sources(config, entity)
    linker = linker_from_model(records, model, matching, exclusive)
    # The waterfall reads each comparison's partial weight from the predictions.
    retain_intermediate_columns(linker)
    register_term_frequencies(linker, model)
    low, high = matching.review_band
    centre = high if matching.threshold == "auto" else matching.threshold
    predictions = linker.inference.predict_within(
        records, threshold_match_probability=low, warning_mode="never"
    )
    rows = linker.misc.query_sql(
        f"select * from {predictions.physical_name} "
        f"order by abs(match_probability - {float(centre)!r}), "
        f"record_id_l, record_id_r limit {WATERFALL_PAIRS}",
        output_type="splink_df",
    ).as_record_list()
    path = chart_path(model, "waterfall")
    path.write_text(linker.visualisations.waterfall_chart(rows).to_html(inline=True))
    return path
