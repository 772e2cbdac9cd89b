"""Trained models as versioned artefacts, and linkers rebuilt from them.

A model is stored as `<models>/<entity>/v<NNNN>.json` (Splink's own JSON, plus an `e360` block
naming the version, the matching-settings fingerprint and the training date), with beside it
its term-frequency tables (`v<NNNN>.tf/<column>.parquet`) and charts (`v<NNNN>.*.html`).

A run uses the version pinned in configuration (`entities.<entity>.model_version`), else the
newest version whose fingerprint matches the configured matching settings; it trains only
when there is none. Retraining is explicit (`e360 train`), so runs are repeatable.

Term frequencies are frozen with the model: a pair's score then depends on the pair and the
model version alone, which is what lets an incremental run keep the scores of unchanged pairs.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from e360.config import (
    E360Config,
    MatchingConfig,
)
from e360.entities import MasteredEntity
from e360.errors import MatchError
from matching.resolution.engine import register
from matching.resolution.settings import SPLINK_LOG_LEVEL, entity_fingerprint, settings
from matching.resolution.splink_adapter import (
    Linker,
    SplinkChart,
    SplinkDataFrame,
    column_names,
    linker_backend,
    term_frequency_columns,
)


@dataclass(frozen=True)
class ModelVersion:
    entity: str
    version: int
    path: Path
    fingerprint: str

    @property
    def label(self) -> str:
        return f"{self.entity}/v{self.version:04d}"


def linker_from_model(
    records: SplinkDataFrame,
    model: ModelVersion,
    matching: MatchingConfig,
    exclusive: Collection[str] = (),
) -> Linker:
    """A linker with a saved model's parameters, on any backend.

    Splink's JSON holds SQL in the dialect it was trained on; on another backend the settings
    are rebuilt from the configuration (the fingerprint guarantees they are the same) and the
    trained parameters carried over level by level. The prediction blocking is always that of
    `matching`, which may leave out a rule over the comparison budget (`blocking`).
    """
    saved = json.loads(model.path.read_text())
    saved.pop("e360", None)
    dialect = records.db_api.sql_dialect.sql_dialect_str
    build = settings(matching, exclusive_sources=exclusive, columns=column_names(records))
    rebuilt = build.get_settings(dialect).as_dict()
    if saved.get("sql_dialect") == dialect:
        rules = rebuilt["blocking_rules_to_generate_predictions"]
        saved["blocking_rules_to_generate_predictions"] = rules
        return Linker(records, saved, log_level=SPLINK_LOG_LEVEL)
    return Linker(records, with_parameters_of(rebuilt, saved), log_level=SPLINK_LOG_LEVEL)


_PARAMETERS = ("m_probability", "u_probability", "tf_adjustment_column", "tf_adjustment_weight")


def with_parameters_of(target: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """Copy λ and every level's m/u (and term-frequency settings) from `source` to `target`."""
    target["probability_two_random_records_match"] = source["probability_two_random_records_match"]
    sources = {c["output_column_name"]: c for c in source["comparisons"]}
    for comparison in target["comparisons"]:
        name = comparison["output_column_name"]
        if name not in sources:
            raise MatchError(
                f"the saved model has no comparison '{name}', which the settings have: "
                "retrain it with `e360 train`"
            )
        levels = sources[name]["comparison_levels"]
        if len(levels) != len(comparison["comparison_levels"]):
            raise MatchError(f"saved model and settings differ in the levels of '{name}'")
        for level, saved_level in zip(comparison["comparison_levels"], levels, strict=True):
            for key in _PARAMETERS:
                if key in saved_level:
                    level[key] = saved_level[key]
    return target


def find_model(models_dir: Path, entity: str, fingerprint: str) -> ModelVersion | None:
    """The newest saved model of the entity trained for these matching settings."""
    for version in reversed(list_models(models_dir, entity)):
        if version.fingerprint == fingerprint:
            return version
    return None


def list_models(models_dir: Path, entity: str) -> list[ModelVersion]:
    versions = []
    for path in sorted((models_dir / entity).glob("v*.json")):
        try:
            meta = json.loads(path.read_text()).get("e360", {})
        except (OSError, json.JSONDecodeError) as exc:
            raise MatchError(f"{path}: unreadable model file: {exc}") from None
        versions.append(
            ModelVersion(entity, int(meta.get("version", 0)), path, meta.get("fingerprint", ""))
        )
    return sorted(versions, key=lambda v: v.version)


def save_model(
    linker: Linker, models_dir: Path, entity: str, fingerprint: str, extra: dict[str, Any]
) -> ModelVersion:
    existing = list_models(models_dir, entity)
    version = (existing[-1].version + 1) if existing else 1
    path = models_dir / entity / f"v{version:04d}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    model = linker.misc.save_model_to_json(None)
    model["e360"] = {
        "version": version,
        "entity": entity,
        "fingerprint": fingerprint,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        **extra,
    }
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(model, indent=2, default=str))
    tmp.replace(path)  # a crash never leaves half a model behind
    return ModelVersion(entity, version, path, fingerprint)


def training_report(model: ModelVersion) -> dict[str, Any] | None:
    """How the version was trained (the prior and its source, EM sessions, fallbacks)."""
    try:
        return json.loads(model.path.read_text()).get("e360", {}).get("training")
    except (OSError, json.JSONDecodeError):
        return None


def select_model(config: E360Config, entity: MasteredEntity) -> ModelVersion | None:
    """The pinned version, else the newest one trained for the configured settings."""
    settings = config.entities[entity]
    fingerprint = entity_fingerprint(config, entity)
    pinned = settings.model_version
    if pinned is None:
        return find_model(config.models_dir, entity, fingerprint)
    versions = {v.version: v for v in list_models(config.models_dir, entity)}
    model = versions.get(pinned)
    key = f"entities.{entity}.model_version"
    if model is None:
        raise MatchError(
            f"{key}: {entity} model v{pinned:04d} not found in {config.models_dir / entity} "
            f"(have {[f'v{v:04d}' for v in sorted(versions)] or 'none'})"
        )
    if model.fingerprint != fingerprint:
        raise MatchError(
            f"{key}: model {model.label} was trained for other matching settings "
            "(comparisons, blocking or training changed): retrain with `e360 train "
            f"{entity}` or unpin it"
        )
    return model


def term_frequency_dir(model: ModelVersion) -> Path:
    return model.path.with_name(f"{model.path.stem}.tf")


def register_term_frequencies(linker: Linker, model: ModelVersion) -> None:
    """Use the model's frozen term frequencies; freeze them from this data the first time."""
    folder = term_frequency_dir(model)
    # Comparisons ask for term frequencies themselves too (Splink's email comparison does).
    columns = term_frequency_columns(linker)
    for column in columns:
        path = folder / f"{column}.parquet"
        if path.exists():
            table = register(linker_backend(linker), pq.read_table(path), f"__e360_tf_{column}")
            linker.table_management.register_term_frequency_lookup(table, column)
            continue
        computed = linker.table_management.compute_tf_table(column).as_pyarrow_table()
        folder.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".parquet.tmp")
        pq.write_table(computed, tmp)
        tmp.replace(path)


def chart_path(model: ModelVersion, chart: str) -> Path:
    return model.path.with_name(f"{model.path.stem}.{chart}.html")


def write_model_charts(linker: Linker, model: ModelVersion) -> list[Path]:
    """Match weights and m/u parameters as self-contained HTML beside the model."""
    charts: dict[str, SplinkChart[Any]] = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
    }
    written = []
    for name, chart in charts.items():
        path = chart_path(model, name)
        path.write_text(chart.to_html(inline=True), encoding="utf-8")
        written.append(path)
    return written
