"""Splink settings from configuration: the comparisons, the blocking rules, and the fingerprint
that says which matching settings a model was trained for."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Collection, Sequence
from typing import Any, TypeGuard

from e360.config import (
    BlockingRule,
    ComparisonConfig,
    E360Config,
    MatchingConfig,
)
from e360.entities import MasteredEntity
from e360.errors import MatchError
from matching.resolution.comparisons import (
    DamerauLevenshteinAtThresholds,
    embedding_cosine,
    model_number,
    token_jaccard,
    units,
    weighted_tokens,
)
from matching.resolution.customer_comparisons import CUSTOMER_COMPARISONS
from matching.resolution.splink_adapter import (
    BlockingRuleCreator,
    ComparisonCreator,
    CustomRule,
    SettingsCreator,
    block_on,
    cl,
    to_blocking_rule_creator,
)
from matching.standardize.lsh import EXPLODED_COLUMNS

UNIQUE_ID = "record_id"


_COMPARISONS: dict[str, Callable[..., ComparisonCreator]] = {
    "exact": cl.ExactMatch,
    "name": cl.NameComparison,
    "email": cl.EmailComparison,
    "postcode": cl.PostcodeComparison,
    "levenshtein": cl.LevenshteinAtThresholds,
    "damerau_levenshtein": DamerauLevenshteinAtThresholds,
    "jaro_winkler": cl.JaroWinklerAtThresholds,
    "jaccard": cl.JaccardAtThresholds,
    "model_number": model_number,
    "token_jaccard": token_jaccard,
    "weighted_tokens": weighted_tokens,
    "units": units,
    "embedding_cosine": embedding_cosine,
}


# None: Splink leaves logging alone; its records reach the run's log file (see pipeline).
SPLINK_LOG_LEVEL = None


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
    matching: MatchingConfig,
    exclusive_sources: Collection[str] = (),
    columns: Collection[str] = (),
) -> list[BlockingRuleCreator | str]:
    """The configured rules; a key rule whose stop-keys are marked in the records' `columns`
    (`blocking.without_stop_keys`) blocks only the records outside them. Pairs within a
    source that holds one record per master are never generated (clustering could not join
    them anyway)."""
    within = ""
    if exclusive_sources:
        names = ", ".join("'" + s.replace("'", "''") + "'" for s in sorted(exclusive_sources))
        within = f"not (l.source = r.source and l.source in ({names}))"
    rules: list[BlockingRuleCreator | str] = []
    for rule in matching.blocking_rules:
        conditions = [within] if within else []
        if is_key_rule(rule) and (flag := blocks_on_column(rule)) in columns:
            conditions.insert(0, f'l."{flag}" and r."{flag}"')
        rules.append(
            _with_condition(rule, " and ".join(conditions)) if conditions else blocking_rule(rule)
        )
    return rules


def is_key_rule(rule: BlockingRule) -> TypeGuard[list[str]]:
    """A rule on one value per record (columns equal), not on exploded buckets or SQL."""
    return isinstance(rule, list) and not set(rule) & EXPLODED_COLUMNS


def blocks_on_column(rule: list[str]) -> str:
    """The records' flag for a key rule: the record's key is held by few enough records to
    block on (`blocking.without_stop_keys` adds it). Matching sees it as it sees any other
    column: a record whose flag changes has changed (`resolve.record_hashes`)."""
    return "blocks_on__" + "__".join(rule)


def _with_condition(rule: BlockingRule, condition: str) -> BlockingRuleCreator:
    """The rule's SQL and a further condition; array columns of a list rule stay exploded.

    The SQL is DuckDB's (as every configured SQL fragment is): Splink transpiles it for
    the engine, so Spark reads `l."gtin"` as a column, not a string."""
    sql = f"{blocking_sql(rule)} and {condition}"
    exploded = [c for c in rule if c in EXPLODED_COLUMNS] if isinstance(rule, list) else []
    return CustomRule(sql, sql_dialect="duckdb", arrays_to_explode=exploded or None)


def settings(
    matching: MatchingConfig,
    extra_comparisons: Sequence[ComparisonCreator] = (),
    *,
    exclusive_sources: Collection[str] = (),
    columns: Collection[str] = (),
) -> SettingsCreator:
    """The one Splink settings builder: the configured comparisons, then any extra ones (an
    `e360 resolve` mapping's extra columns), and the prediction blocking (`columns`: of the
    records, as for `prediction_blocking_rules`)."""
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name=UNIQUE_ID,
        comparisons=[*(comparison(c) for c in matching.comparisons), *extra_comparisons],
        # Splink's own conversion of a SQL string rule, done here where its types ask for it.
        blocking_rules_to_generate_predictions=[
            to_blocking_rule_creator(r)
            for r in prediction_blocking_rules(matching, exclusive_sources, columns)
        ],
        additional_columns_to_retain=["source"],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
    )
