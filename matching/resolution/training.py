"""Explicit retraining (`e360 train <entity>`): a new model version, its charts, and the
steward decisions as labels.

A new version changes scores, so the next run is a full one; master ids still carry over by
member overlap, as on any run.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from e360.config import E360Config
from e360.entities import MasteredEntity, is_mastered
from e360.errors import MatchError
from e360.lake import Lake
from e360.zones import standardized_table_name
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
    labels: int  # steward match decisions used to estimate m
    charts: list[Path]


def train_entity(
    config: E360Config, lake: Lake, entity: str, *, decisions: StewardDecisions | None = None
) -> TrainedModel:
    """Train a new version of the entity's model on its standardized records; with
    `decisions`, m is estimated from the stewards' match decisions too."""
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
        if labels.num_rows == 0:
            raise MatchError(
                f"no steward 'match' decisions on current {entity} records to train on"
            )
    backend = splink_backend(config)
    with splink_session(backend, entity, "training"):
        table = register(backend, records, _RECORDS)
        label_table = register(backend, labels, "steward_labels") if labels is not None else None
        model = train_and_save(
            config, entity, table, records.num_rows, label_table, sizes=source_sizes(records)
        )
        charts = [chart_path(model, "match_weights"), chart_path(model, "m_u_parameters")]
        charts.append(write_waterfall(config, entity, model, table))
    return TrainedModel(
        model, records.num_rows, labels.num_rows if labels is not None else 0, charts
    )


def steward_labels(decisions: StewardDecisions, entity: str, known: set[str]) -> pa.Table:
    """Pairs stewards decided are the same entity, in Splink's pairwise-label shape."""
    pairs = [(a, b) for a, b in decisions.matched_pairs(entity) if a in known and b in known]
    return pa.table(
        {
            "source_dataset_l": pa.array([_RECORDS] * len(pairs), pa.string()),
            "record_id_l": pa.array([p[0] for p in pairs], pa.string()),
            "source_dataset_r": pa.array([_RECORDS] * len(pairs), pa.string()),
            "record_id_r": pa.array([p[1] for p in pairs], pa.string()),
        }
    )


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
