"""The one trainer: λ from deterministic rules (cross-checked by `safeguards`), u by random
sampling, m by EM, no labels needed; and training a new stored version of an entity's model."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pyarrow as pa
import pyarrow.compute as pc

from e360.config import (
    BlockingRule,
    E360Config,
    MatchingConfig,
    TrainingConfig,
)
from e360.entities import MasteredEntity
from e360.errors import MatchError
from matching.resolution.active_learning import (
    Candidate,
    LabelFit,
    Pair,
    fit_from_labels,
    parameters_of,
    with_parameters,
)
from matching.resolution.safeguards import (
    PriorChoice,
    checked_parameters,
    choose_prior,
    em_prior,
    one_per_master_bound,
)
from matching.resolution.settings import (
    SPLINK_LOG_LEVEL,
    blocking_rule,
    entity_fingerprint,
    exclusive_sources,
    settings,
)
from matching.resolution.splink_adapter import (
    ComparisonCreator,
    Linker,
    SplinkDataFrame,
    apply_trained_values,
    column_names,
    comparison_levels,
    em_iterations,
    level_parameters,
    max_em_iterations,
    model_restored_on_failure,
    pair_columns,
    prior_of,
    retain_intermediate_columns,
    set_prior,
    trained_m_probabilities,
)
from matching.resolution.versions import (
    ModelVersion,
    register_term_frequencies,
    save_model,
    write_model_charts,
)

logger = logging.getLogger(__name__)

# An EM session trains on at most this many pairs of its blocking rule: Splink samples the
# records of both sides so that about this many remain (`max_pairs`), as u's random
# sampling is bounded by `u_max_pairs`, so training stops growing with the square of a
# block's records. Below it (every EM block of the demo data up to 100k customers) nothing
# is sampled and the estimates are those of the whole block.
EM_MAX_PAIRS = 2_000_000
# Records sampled on each side to estimate a block's pairs before choosing the sample: the
# estimate then rests on about as many pairs at any scale.
EM_PROBE_RECORDS = 20_000


class EMSampling(TypedDict):
    max_pairs: float
    record_sample_proportion: float


def em_sampling(records: int) -> EMSampling:
    """Splink's EM sampling arguments for `records` records (`EM_MAX_PAIRS`)."""
    return EMSampling(
        max_pairs=EM_MAX_PAIRS,
        record_sample_proportion=min(1.0, EM_PROBE_RECORDS / max(1, records)),
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
    build = settings(
        matching,
        extra_comparisons,
        exclusive_sources=exclusive_sources,
        columns=column_names(records),
    )
    linker = Linker(records, build, log_level=SPLINK_LOG_LEVEL)
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
        session = _em_session(linker, rule, report, count)
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
    return Linker(records, model, log_level=SPLINK_LOG_LEVEL)


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


def _em_session(linker: Linker, rule: BlockingRule, report: TrainingReport, records: int) -> Any:
    """One EM session, on a bounded sample of the rule's pairs (`em_sampling`); a failure is
    noted and skipped, non-convergence is noted."""
    entry: dict[str, Any] = {"rule": rule}
    report.em_sessions.append(entry)
    try:
        with model_restored_on_failure(linker):
            session = linker.training.estimate_parameters_using_expectation_maximisation(
                blocking_rule(rule), **em_sampling(records)
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


def train_and_save(
    config: E360Config,
    entity: MasteredEntity,
    records: SplinkDataFrame,
    record_count: int,
    labels: Mapping[Pair, bool] | None = None,
    sizes: Mapping[str, int] | None = None,
) -> ModelVersion:
    """Train a new version on `records`, store it with its term frequencies and charts.

    `labels`: steward decisions, pair -> is a match; where given, m, u and λ are re-estimated
    from them on the candidate pairs after the label-free training (`learn_from_labels`).
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
        model, fit = learn_from_labels(records, linker.misc.save_model_to_json(None), labels)
        report.warnings.extend(fit.notes)
        linker = Linker(records, model, log_level=SPLINK_LOG_LEVEL)
        extra["labels"] = fit.as_dict()
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


def candidate_pairs(records: SplinkDataFrame, model: dict[str, Any]) -> list[Candidate]:
    """Every pair the model's blocking produces, scored, with its comparison vector and
    per-comparison weights (what active learning ranks and learns from)."""
    return scored_candidates(Linker(records, model, log_level=SPLINK_LOG_LEVEL), records)


def scored_candidates(linker: Linker, records: SplinkDataFrame) -> list[Candidate]:
    """`candidate_pairs` with a linker of one's own (it is set to keep intermediate columns)."""
    retain_intermediate_columns(linker)
    columns = pair_columns(linker)
    predictions = linker.inference.predict_within(records, warning_mode="never")
    gammas = ", ".join(f"{g} as g_{i}" for i, (_, g, _) in enumerate(columns))
    weights = ", ".join(f"{w} as w_{i}" for i, (_, _, w) in enumerate(columns))
    rows = linker.misc.query_sql(
        "select cast(record_id_l as varchar) as l, cast(record_id_r as varchar) as r, "
        f"match_probability as p, cast(match_key as varchar) as k, {gammas}, {weights} "
        f"from {predictions.physical_name}",
        output_type="splink_df",
    ).as_record_list()
    n = len(columns)
    return [
        Candidate(
            record_l=min(row["l"], row["r"]),
            record_r=max(row["l"], row["r"]),
            match_probability=float(row["p"]),
            match_key=str(row["k"]),
            gammas=tuple(int(row[f"g_{i}"]) for i in range(n)),
            weights=tuple(float(row[f"w_{i}"] or 0.0) for i in range(n)),
        )
        for row in rows
    ]


def learn_from_labels(
    records: SplinkDataFrame, model: dict[str, Any], labels: Mapping[Pair, bool]
) -> tuple[dict[str, Any], LabelFit]:
    """The model re-estimated from steward labels on its candidate pairs
    (`active_learning.fit_from_labels`); parameter checks as after any training."""
    candidates = candidate_pairs(records, model)
    start_linker = Linker(records, model, log_level=SPLINK_LOG_LEVEL)
    start = parameters_of(model, level_parameters(start_linker))
    names = [name for name, _, _ in pair_columns(start_linker)]
    fit = fit_from_labels(candidates, names, start, labels)
    fitted, warnings = checked_parameters(with_parameters(model, fit.parameters))
    fit.notes.extend(warnings)
    return fitted, fit
