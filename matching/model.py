"""Splink models: settings built from configuration, EM training, versioned JSON artefacts.

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

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import splink.comparison_library as cl
from splink import Linker, SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.splink_dataframe import SplinkDataFrame

from e360.config import BlockingRule, ComparisonConfig, E360Config, MatchingConfig
from e360.errors import MatchError
from matching.comparisons import model_number, token_jaccard
from matching.customer_comparisons import CUSTOMER_COMPARISONS
from matching.engine import register

UNIQUE_ID = "record_id"
_COMPARISONS = {
    "exact": cl.ExactMatch,
    "name": cl.NameComparison,
    "email": cl.EmailComparison,
    "postcode": cl.PostcodeComparison,
    "levenshtein": cl.LevenshteinAtThresholds,
    "damerau_levenshtein": cl.DamerauLevenshteinAtThresholds,
    "jaro_winkler": cl.JaroWinklerAtThresholds,
    "jaccard": cl.JaccardAtThresholds,
    "model_number": model_number,
    "token_jaccard": token_jaccard,
}
# None: Splink leaves logging alone; its records reach the run's log file (see pipeline).
_SPLINK_LOG_LEVEL = None


@dataclass(frozen=True)
class ModelVersion:
    entity: str
    version: int
    path: Path
    fingerprint: str

    @property
    def label(self) -> str:
        return f"{self.entity}/v{self.version:04d}"


def matching_fingerprint(matching: MatchingConfig) -> str:
    """Identifies the matching settings a model was trained for (not the thresholds)."""
    relevant = matching.model_dump(include={"blocking_rules", "comparisons", "training"})
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]


def blocking_rule(rule: BlockingRule) -> BlockingRuleCreator | str:
    return block_on(*rule) if isinstance(rule, list) else rule


def comparison(spec: ComparisonConfig) -> ComparisonCreator:
    if spec.type == "forename_surname":
        if len(spec.input_columns) != 2:
            raise MatchError("a forename_surname comparison takes columns: [forename, surname]")
        created: ComparisonCreator = cl.ForenameSurnameComparison(
            *spec.input_columns, **spec.params
        )
    elif spec.type in CUSTOMER_COMPARISONS:
        created = CUSTOMER_COMPARISONS[spec.type](*spec.input_columns, **spec.params)
    elif spec.type == "date_of_birth":
        created = cl.DateOfBirthComparison(spec.column, input_is_string=False, **spec.params)
    else:
        created = _COMPARISONS[spec.type](spec.column, **spec.params)
    if spec.term_frequency:
        created = created.configure(term_frequency_adjustments=True)
    return created


def settings(matching: MatchingConfig) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=[comparison(c) for c in matching.comparisons],
        blocking_rules_to_generate_predictions=[blocking_rule(r) for r in matching.blocking_rules],
        additional_columns_to_retain=["source"],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
    )


def train(records: SplinkDataFrame, matching: MatchingConfig) -> Linker:
    """Estimate λ from deterministic rules, u by random sampling, m by EM: no labels needed."""
    linker = Linker(records, settings(matching), log_level=_SPLINK_LOG_LEVEL)
    training = matching.training
    linker.training.estimate_probability_two_random_records_match(
        [blocking_rule(r) for r in training.deterministic_rules], recall=training.recall
    )
    linker.training.estimate_u_using_random_sampling(
        max_pairs=training.u_max_pairs, seed=training.seed
    )
    for rule in training.em_blocking_rules:
        linker.training.estimate_parameters_using_expectation_maximisation(
            blocking_rule(rule), record_sample_proportion=1.0
        )
    if not any(c.m_probabilities for c in matching.comparisons):
        return linker
    model = with_fixed_m_probabilities(linker.misc.save_model_to_json(None), matching)
    return Linker(records, model, log_level=_SPLINK_LOG_LEVEL)


def with_fixed_m_probabilities(model: dict[str, Any], matching: MatchingConfig) -> dict[str, Any]:
    """Overwrite trained m-probabilities where the configuration fixes them."""
    fixed = {c.input_columns[0]: c for c in matching.comparisons if c.m_probabilities}
    for comparison_model in model["comparisons"]:
        spec = fixed.get(comparison_model["output_column_name"])
        if spec is None:
            continue
        levels = [
            lvl for lvl in comparison_model["comparison_levels"] if not lvl.get("is_null_level")
        ]
        if len(levels) != len(spec.m_probabilities or []):
            raise MatchError(
                f"comparison on {spec.input_columns[0]}: m_probabilities has "
                f"{len(spec.m_probabilities or [])} values for {len(levels)} non-null levels"
            )
        for level, m in zip(levels, spec.m_probabilities or [], strict=True):
            level["m_probability"] = m
    return model


def linker_from_model(
    records: SplinkDataFrame, model: ModelVersion, matching: MatchingConfig
) -> Linker:
    """A linker with a saved model's parameters, on any backend.

    Splink's JSON holds SQL in the dialect it was trained on; on another backend the settings
    are rebuilt from the configuration (the fingerprint guarantees they are the same) and the
    trained parameters carried over level by level.
    """
    saved = json.loads(model.path.read_text())
    saved.pop("e360", None)
    dialect = records.db_api.sql_dialect.sql_dialect_str
    if saved.get("sql_dialect") == dialect:
        return Linker(records, saved, log_level=_SPLINK_LOG_LEVEL)
    rebuilt = settings(matching).get_settings(dialect).as_dict()
    return Linker(records, with_parameters_of(rebuilt, saved), log_level=_SPLINK_LOG_LEVEL)


_PARAMETERS = ("m_probability", "u_probability", "tf_adjustment_column", "tf_adjustment_weight")


def with_parameters_of(target: dict[str, Any], source: dict[str, Any]) -> dict[str, Any]:
    """Copy λ and every level's m/u (and term-frequency settings) from `source` to `target`."""
    target["probability_two_random_records_match"] = source["probability_two_random_records_match"]
    sources = {c["output_column_name"]: c for c in source["comparisons"]}
    for comparison in target["comparisons"]:
        name = comparison["output_column_name"]
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


def select_model(config: E360Config, entity: str) -> ModelVersion | None:
    """The pinned version, else the newest one trained for the configured settings."""
    settings = config.entities[entity]  # type: ignore[index]
    fingerprint = matching_fingerprint(settings.matching)
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


def train_and_save(
    config: E360Config,
    entity: str,
    records: SplinkDataFrame,
    record_count: int,
    labels: SplinkDataFrame | None = None,
) -> ModelVersion:
    """Train a new version on `records`, store it with its term frequencies and charts.

    `labels`: steward decisions (Splink's pairwise-label columns); where given, the
    m-probabilities are estimated from them after EM, so human judgement outweighs EM's.
    """
    matching = config.entities[entity].matching  # type: ignore[index]
    linker = train(records, matching)
    extra: dict[str, Any] = {"records": record_count}
    if labels is not None:
        linker.training.estimate_m_from_pairwise_labels(labels)
        if any(c.m_probabilities for c in matching.comparisons):
            model = with_fixed_m_probabilities(linker.misc.save_model_to_json(None), matching)
            linker = Linker(records, model, log_level=_SPLINK_LOG_LEVEL)
        extra["labels"] = labels.as_pyarrow_table().num_rows
    version = save_model(
        linker, config.models_dir, entity, matching_fingerprint(matching), extra
    )
    register_term_frequencies(linker, version)
    write_model_charts(linker, version)
    return version


def term_frequency_dir(model: ModelVersion) -> Path:
    return model.path.with_name(f"{model.path.stem}.tf")


def register_term_frequencies(linker: Linker, model: ModelVersion) -> None:
    """Use the model's frozen term frequencies; freeze them from this data the first time."""
    folder = term_frequency_dir(model)
    # Comparisons ask for term frequencies themselves too (Splink's email comparison does).
    columns = [c.unquote().name for c in linker._settings_obj._term_frequency_columns]
    for column in columns:
        path = folder / f"{column}.parquet"
        if path.exists():
            table = register(linker._db_api, pq.read_table(path), f"__e360_tf_{column}")
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
    charts = {
        "match_weights": linker.visualisations.match_weights_chart(),
        "m_u_parameters": linker.visualisations.m_u_parameters_chart(),
    }
    written = []
    for name, chart in charts.items():
        path = chart_path(model, name)
        path.write_text(chart.to_html(inline=True), encoding="utf-8")
        written.append(path)
    return written
