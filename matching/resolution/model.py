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
import logging
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from e360.config import (
    BlockingRule,
    ComparisonConfig,
    E360Config,
    MatchingConfig,
    TrainingConfig,
)
from e360.entities import MasteredEntity
from e360.errors import MatchError
from matching.resolution.comparisons import (
    embedding_cosine,
    model_number,
    token_jaccard,
    units,
    weighted_tokens,
)
from matching.resolution.customer_comparisons import CUSTOMER_COMPARISONS
from matching.resolution.engine import register
from matching.resolution.safeguards import (
    PriorChoice,
    checked_parameters,
    choose_prior,
    em_prior,
    one_per_master_bound,
)
from matching.resolution.splink_adapter import (
    BlockingRuleCreator,
    ComparisonCreator,
    CustomRule,
    Linker,
    SettingsCreator,
    SplinkChart,
    SplinkDataFrame,
    apply_trained_values,
    block_on,
    cl,
    comparison_levels,
    em_iterations,
    linker_backend,
    max_em_iterations,
    prior_of,
    set_prior,
    term_frequency_columns,
    to_blocking_rule_creator,
    trained_m_probabilities,
)
from matching.standardize.lsh import EXPLODED_COLUMNS

UNIQUE_ID = "record_id"
_COMPARISONS: dict[str, Callable[..., ComparisonCreator]] = {
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
    "weighted_tokens": weighted_tokens,
    "units": units,
    "embedding_cosine": embedding_cosine,
}
# None: Splink leaves logging alone; its records reach the run's log file (see pipeline).
_SPLINK_LOG_LEVEL = None
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelVersion:
    entity: str
    version: int
    path: Path
    fingerprint: str

    @property
    def label(self) -> str:
        return f"{self.entity}/v{self.version:04d}"


def matching_fingerprint(matching: MatchingConfig, exclusive: Collection[str] = ()) -> str:
    """Identifies the matching settings a model was trained for (not the thresholds);
    `exclusive`: the sources of one record per master (they change the blocking)."""
    relevant: dict[str, Any] = matching.model_dump(
        include={"blocking_rules", "comparisons", "training"}
    )
    if exclusive:
        relevant["one_per_master"] = sorted(exclusive)
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:12]


def exclusive_sources(config: E360Config, entity: str) -> frozenset[str]:
    """The entity's sources that hold at most one record per master (`one_per_master`)."""
    return frozenset(
        name
        for name, source in config.sources.items()
        if source.entity == entity and source.one_per_master
    )


def entity_fingerprint(config: E360Config, entity: MasteredEntity) -> str:
    matching = config.entities[entity].matching
    return matching_fingerprint(matching, exclusive_sources(config, entity))


def blocking_rule(rule: BlockingRule) -> BlockingRuleCreator | str:
    """A list is Splink's block_on; array columns in it (LSH buckets) are exploded."""
    if not isinstance(rule, list):
        return rule
    return block_on(*rule, arrays_to_explode=[c for c in rule if c in EXPLODED_COLUMNS] or None)


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
        created = cl.DateOfBirthComparison(
            _single_column(spec), input_is_string=False, **spec.params
        )
    else:
        created = _COMPARISONS[spec.type](_single_column(spec), **spec.params)
    if spec.term_frequency:
        created = created.configure(term_frequency_adjustments=True)
    return created


def _single_column(spec: ComparisonConfig) -> str:
    if spec.column is None:
        raise MatchError(f"a {spec.type} comparison takes one column: give `column`")
    return spec.column


def blocking_sql(rule: BlockingRule) -> str:
    """A blocking rule as SQL: its columns equal on both sides, or its own expression."""
    if isinstance(rule, str):
        return f"({rule})"
    return " and ".join(f'l."{c}" = r."{c}"' for c in rule)


def prediction_blocking_rules(
    matching: MatchingConfig, exclusive_sources: Collection[str] = ()
) -> list[BlockingRuleCreator | str]:
    """The configured rules; pairs within a source that holds one record per master are never
    generated (clustering could not join them anyway)."""
    if not exclusive_sources:
        return [blocking_rule(r) for r in matching.blocking_rules]
    names = ", ".join("'" + s.replace("'", "''") + "'" for s in sorted(exclusive_sources))
    within = f"not (l.source = r.source and l.source in ({names}))"
    return [_with_condition(r, within) for r in matching.blocking_rules]


def _with_condition(rule: BlockingRule, condition: str) -> BlockingRuleCreator | str:
    """The rule's SQL and a further condition; array columns of a list rule stay exploded."""
    sql = f"{blocking_sql(rule)} and {condition}"
    exploded = [c for c in rule if c in EXPLODED_COLUMNS] if isinstance(rule, list) else []
    return CustomRule(sql, arrays_to_explode=exploded) if exploded else sql


def settings(
    matching: MatchingConfig,
    extra_comparisons: Sequence[ComparisonCreator] = (),
    *,
    exclusive_sources: Collection[str] = (),
) -> SettingsCreator:
    """The one Splink settings builder: the configured comparisons, then any extra ones (an
    `e360 resolve` mapping's extra columns), and the prediction blocking."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=[*(comparison(c) for c in matching.comparisons), *extra_comparisons],
        # Splink's own conversion of a SQL string rule, done here where its types ask for it.
        blocking_rules_to_generate_predictions=[
            to_blocking_rule_creator(r)
            for r in prediction_blocking_rules(matching, exclusive_sources)
        ],
        additional_columns_to_retain=["source"],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
    )


@dataclass
class TrainingReport:
    """How training went: which λ was used and why, every EM session, every fallback."""

    prior: PriorChoice | None = None
    em_sessions: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "prior": self.prior.as_dict() if self.prior else None,
            "em_sessions": self.em_sessions,
            "warnings": self.warnings,
        }


def train(
    records: SplinkDataFrame,
    matching: MatchingConfig,
    extra_comparisons: Sequence[ComparisonCreator] = (),
    *,
    exclusive_sources: Collection[str] = (),
    source_sizes: Mapping[str, int] | None = None,
    report: TrainingReport | None = None,
) -> Linker:
    """The one trainer. λ from deterministic rules, cross-checked (`safeguards`),
    u by random sampling, m by EM: no labels needed. No step's failure stops training: each
    degrades to the next estimate and is noted in `report`.

    `source_sizes`: records per source; with every source in `exclusive_sources` they bound λ.
    """
    report = report if report is not None else TrainingReport()
    build = settings(matching, extra_comparisons, exclusive_sources=exclusive_sources)
    linker = Linker(records, build, log_level=_SPLINK_LOG_LEVEL)
    training = matching.training
    sizes = dict(source_sizes or {})
    count = sum(sizes.values()) if sizes else _count(linker, records)
    deterministic = _deterministic_prior(linker, training, report)
    bound = one_per_master_bound(sizes) if sizes and set(sizes) <= set(exclusive_sources) else None
    prior = choose_prior(count, deterministic=deterministic, one_per_master=bound)
    set_prior(linker, prior.value)
    try:
        linker.training.estimate_u_using_random_sampling(
            max_pairs=training.u_max_pairs, seed=training.seed
        )
    except Exception as exc:  # e.g. too few records to sample a pair
        report.warnings.append(f"u by random sampling failed ({_reason(exc)}): default u used")
    em_lambdas = []
    unconverged: list[dict[int, tuple[int, int]]] = []
    for rule in training.em_blocking_rules:
        before = _trained_m_counts(linker)
        session = _em_session(linker, rule, report)
        if session is not None:
            em_lambdas.append((rule, session))
            if report.em_sessions[-1]["status"] == "not_converged":
                after = _trained_m_counts(linker)
                unconverged.append({k: (before.get(k, 0), n) for k, n in after.items()})
    if unconverged:
        _drop_estimates_of(linker, unconverged, report)
    if prior.source == "default":
        em = _em_prior(linker, em_lambdas)
        prior = choose_prior(count, deterministic=deterministic, em=em)
    prior.candidates["one_per_master"] = bound
    report.prior = prior
    model = linker.misc.save_model_to_json(None)
    if any(c.m_probabilities for c in matching.comparisons):
        model = with_fixed_m_probabilities(model, matching)
    model["probability_two_random_records_match"] = prior.value
    model, warnings = checked_parameters(model)
    report.warnings.extend(warnings)
    for warning in [*prior.notes, *report.warnings]:
        # Clamping a vanishing m or u is routine (EM drives unseen levels towards 0): noted
        # in the report and the log, not shouted.
        routine = warning.endswith(": clamped")
        logger.log(logging.INFO if routine else logging.WARNING, "training: %s", warning)
    return Linker(records, model, log_level=_SPLINK_LOG_LEVEL)


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def _count(linker: Linker, records: SplinkDataFrame) -> int:
    rows = linker.misc.query_sql(
        f"select count(*) as n from {records.physical_name}", output_type="splink_df"
    ).as_record_list()
    return int(rows[0]["n"])


def _deterministic_prior(
    linker: Linker, training: TrainingConfig, report: TrainingReport
) -> float | None:
    """Splink's estimate from the deterministic rules, or None when it cannot be made."""
    rules = [blocking_rule(r) for r in training.deterministic_rules]
    if not rules:
        return None
    try:
        linker.training.estimate_probability_two_random_records_match(rules, recall=training.recall)
    except ValueError as exc:
        if "more observed matches" in str(exc):
            return 1.0  # the rules fire on (nearly) every pair: no evidence of anything
        report.warnings.append(f"deterministic rules failed ({_reason(exc)})")
        return None
    except Exception as exc:
        report.warnings.append(f"deterministic rules failed ({_reason(exc)})")
        return None
    return prior_of(linker)


def _em_session(linker: Linker, rule: BlockingRule, report: TrainingReport) -> Any:
    """One EM session; a failure is noted and skipped, non-convergence is noted."""
    entry: dict[str, Any] = {"rule": rule}
    report.em_sessions.append(entry)
    try:
        session = linker.training.estimate_parameters_using_expectation_maximisation(
            blocking_rule(rule), record_sample_proportion=1.0
        )
    except Exception as exc:  # e.g. a rule no pair satisfies in this data
        entry.update(status="failed", reason=_reason(exc))
        report.warnings.append(f"EM on {rule} failed ({entry['reason']}): skipped")
        return None
    iterations = em_iterations(session)
    entry["iterations"] = iterations
    if iterations >= max_em_iterations(linker):
        # Splink stops at its iteration limit without saying: the estimates may still move.
        entry["status"] = "not_converged"
        report.warnings.append(
            f"EM on {rule} did not converge in {iterations} iterations: its estimates are "
            "checked like every other"
        )
    else:
        entry["status"] = "converged"
    return session


def _trained_m_counts(linker: Linker) -> dict[int, int]:
    return {
        i: len(trained_m_probabilities(level)) for i, level in enumerate(comparison_levels(linker))
    }


def _numeric(entries: list[dict[str, Any]]) -> bool:
    return any(isinstance(e["probability"], int | float) for e in entries)


def _drop_estimates_of(
    linker: Linker, sessions: list[dict[int, tuple[int, int]]], report: TrainingReport
) -> None:
    """Forget the m estimates of EM sessions that did not converge, for every level another
    session estimated too (Splink takes the median over sessions); a level only such a
    session estimated keeps its estimate, which the parameter checks still judge."""
    levels = comparison_levels(linker)
    dropped = 0
    for ranges in reversed(sessions):  # latest first: earlier index ranges stay valid
        for index, (start, end) in ranges.items():
            entries = trained_m_probabilities(levels[index])
            if end > start and _numeric(entries[:start] + entries[end:]):
                del entries[start:end]
                dropped += 1
    if dropped:
        apply_trained_values(linker)
        report.warnings.append(
            f"m estimates of {dropped} level(s) from EM sessions that did not converge "
            "were dropped in favour of converged sessions"
        )


def _em_prior(linker: Linker, sessions: list[tuple[BlockingRule, Any]]) -> float | None:
    """EM's λ within each rule's block, spread over all pairs; the largest (each is a
    lower bound)."""
    estimates = []
    for rule, session in sessions:
        block_lambda = session.core_model_settings.probability_two_random_records_match
        try:  # Splink's counter of the share of all pairs a rule blocks, with recall 1
            linker.training.estimate_probability_two_random_records_match(
                [blocking_rule(rule)], recall=1.0
            )
        except Exception:
            continue
        share = prior_of(linker)
        estimate = em_prior(block_lambda, share)
        if estimate is not None:
            estimates.append(estimate)
    return max(estimates) if estimates else None


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
    rebuilt = settings(matching, exclusive_sources=exclusive).get_settings(dialect).as_dict()
    if saved.get("sql_dialect") == dialect:
        rules = rebuilt["blocking_rules_to_generate_predictions"]
        saved["blocking_rules_to_generate_predictions"] = rules
        return Linker(records, saved, log_level=_SPLINK_LOG_LEVEL)
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


def train_and_save(
    config: E360Config,
    entity: MasteredEntity,
    records: SplinkDataFrame,
    record_count: int,
    labels: SplinkDataFrame | None = None,
    sizes: Mapping[str, int] | None = None,
) -> ModelVersion:
    """Train a new version on `records`, store it with its term frequencies and charts.

    `labels`: steward decisions (Splink's pairwise-label columns); where given, the
    m-probabilities are estimated from them after EM, so human judgement outweighs EM's.
    `sizes`: records per source (`source_sizes`), for the one-record-per-master bound on λ.
    """
    matching = config.entities[entity].matching
    exclusive = exclusive_sources(config, entity)
    report = TrainingReport()
    linker = train(
        records,
        matching,
        exclusive_sources=exclusive,
        source_sizes=sizes,
        report=report,
    )
    extra: dict[str, Any] = {"records": record_count}
    if labels is not None:
        linker.training.estimate_m_from_pairwise_labels(labels)
        model = linker.misc.save_model_to_json(None)
        if any(c.m_probabilities for c in matching.comparisons):
            model = with_fixed_m_probabilities(model, matching)
        model, warnings = checked_parameters(model)
        report.warnings.extend(warnings)
        linker = Linker(records, model, log_level=_SPLINK_LOG_LEVEL)
        extra["labels"] = labels.as_pyarrow_table().num_rows
    extra["training"] = report.as_dict()
    version = save_model(
        linker, config.models_dir, entity, entity_fingerprint(config, entity), extra
    )
    register_term_frequencies(linker, version)
    write_model_charts(linker, version)
    return version


def source_sizes(records: pa.Table) -> dict[str, int]:
    """Records per source of an Arrow table with a `source` column."""
    counts = pc.value_counts(records.column("source")).to_pylist()
    return {str(c["values"]): int(c["counts"]) for c in counts}


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
