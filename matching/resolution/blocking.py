"""How many pairs blocking rules generate, counted before predicting, and a cap on runaways.

A key shared by many records blocks nothing: its K records add K(K-1)/2 pairs, nearly all
non-matches, and blocks keyed on coarse values (a surname's sound and a birth year) grow with
the population, so the pairs of a rule would grow with its square. `without_stop_keys` marks
them before anything is counted or scored: a key rule's records whose key is held by more
than `matching.max_block_size` records do not block on it (they still meet on the other
rules), and the MinHash buckets of common title words ("case", "cable") are taken out of the
records. Each record then gets a bounded number of candidates from each rule.

Then the pairs each rule adds are counted (estimated from a sample of the records on large
inputs: Splink's blocking analysis, which handles exploded array columns), and a rule that
alone would add more pairs than the budget is left out and named.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from e360.config import BlockingRule, MatchingConfig
from e360.zones import display_columns
from matching.resolution.settings import (
    blocking_sql,
    blocks_on_column,
    is_key_rule,
    prediction_blocking_rules,
)
from matching.resolution.splink_adapter import (
    BlockingRuleCreator,
    SplinkDataFrame,
    column_names,
    count_comparisons_from_blocking_rules,
)
from matching.standardize.lsh import EXPLODED_COLUMNS, drop_stop_buckets

log = logging.getLogger(__name__)


def as_matched(
    records: pa.Table, entity: str, matching: MatchingConfig, *, population: int | None = None
) -> pa.Table:
    """The standardized records as every matching step sees them (a run's scoring, training,
    the teach page, `e360 check`): without display values, and with the stop-keys of
    blocking marked, so all of them score the same candidate pairs (`population`: as in
    `without_stop_keys`, for a sample)."""
    shown = [c for c in display_columns(entity).values() if c in records.column_names]
    return without_stop_keys(records.drop_columns(shown), matching, population=population)


def without_stop_keys(
    records: pa.Table, matching: MatchingConfig, *, population: int | None = None
) -> pa.Table:
    """The records as blocking sees them: for each key rule, a flag column saying whether
    the record's key is held by at most `matching.max_block_size` records
    (`settings.blocks_on_column`: the rule blocks only flagged records); the exploded
    columns of the prediction rules without the keys of buckets over
    `matching.max_bucket_size` records (by default the same cap).

    `population`: the records `records` were sampled from, when a sample (the caps, sized for
    the whole, are scaled to it)."""
    population = population or records.num_rows

    def scaled(cap: int) -> int:
        if population > records.num_rows:
            return max(2, round(cap * records.num_rows / population))
        return cap

    names = set(records.column_names)
    for rule in matching.blocking_rules:
        if is_key_rule(rule) and set(rule) <= names:
            flag = blocks_on_column(rule)
            if flag not in names:
                records = records.append_column(
                    flag, small_blocks(records, rule, scaled(matching.max_block_size))
                )
    columns = sorted(
        {c for r in matching.blocking_rules if isinstance(r, list) for c in r}
        & EXPLODED_COLUMNS
        & names
    )
    cap = scaled(matching.max_bucket_size or matching.max_block_size)
    for column in columns:
        records = drop_stop_buckets(records, column, cap)
    return records


def small_blocks(records: pa.Table, columns: Sequence[str], cap: int) -> pa.Array:
    """Per record: whether at most `cap` records share its values of `columns` (False where
    a value is missing: such a record is in no block of the rule)."""
    parts = [pc.cast(records.column(c), pa.string()) for c in columns]
    keys = pc.binary_join_element_wise(*parts, "\x1f", null_handling="emit_null")
    counts = pc.value_counts(keys)
    sizes = pc.take(counts.field("counts"), pc.index_in(keys, value_set=counts.field("values")))
    small = pc.fill_null(pc.less_equal(sizes, cap), False)
    return pc.and_(small, pc.is_valid(keys)).combine_chunks()


@dataclass(frozen=True)
class RuleCount:
    rule: str
    marginal: int  # pairs this rule adds to the rules before it
    cumulative: int
    is_estimate: bool


def count_comparisons(
    records: SplinkDataFrame,
    rules: Sequence[BlockingRuleCreator | str],
    *,
    unique_id: str = "record_id",
    sample: float = 1.0,
) -> list[RuleCount]:
    """Pairs each rule adds (after the rules before it), on the whole data or a sample."""
    with warnings.catch_warnings():
        # Splink warns of a small sample; whether a count is an estimate is reported instead.
        warnings.simplefilter("ignore", UserWarning)
        counted = count_comparisons_from_blocking_rules(
            records,
            blocking_rules=list(rules),
            link_type="dedupe_only",
            unique_id_column_name=unique_id,
            record_sample_proportion=sample,
        )
    return [
        RuleCount(
            rule=c["blocking_rule"],
            marginal=int(c["marginal_comparison_count"]),
            cumulative=int(c["cumulative_comparison_count"]),
            is_estimate=bool(c["is_estimate"]),
        )
        for c in counted
    ]


# Records counted on each side before the count becomes an estimate from a sample (Splink
# scales it up): exact counting builds every pair, which is the cost being guarded against.
EXACT_COUNT_RECORDS = 20_000


@dataclass(frozen=True)
class Budget:
    """The matching settings to predict with, and what blocking was found to generate."""

    matching: MatchingConfig  # the configured settings without any rule over the budget
    counts: list[RuleCount]
    dropped: list[RuleCount]
    max_comparisons: int

    @property
    def comparisons(self) -> int:
        kept = [c for c in self.counts if c not in self.dropped]
        return sum(c.marginal for c in kept)

    def as_dict(self) -> dict[str, Any]:
        return {
            "comparisons": self.comparisons,
            "max_comparisons": self.max_comparisons,
            "is_estimate": any(c.is_estimate for c in self.counts),
            "rules": [
                {"rule": c.rule, "pairs": c.marginal, "left_out": c in self.dropped}
                for c in self.counts
            ],
        }


def within_budget(
    records: SplinkDataFrame,
    matching: MatchingConfig,
    *,
    record_count: int,
    exclusive_sources: Collection[str] = (),
) -> Budget:
    """Count each prediction rule's pairs before predicting; a rule whose own pairs exceed
    `matching.max_comparisons` is left out and named (the first rule always stays, so a run
    still scores). Exact up to `EXACT_COUNT_RECORDS` records, estimated from a sample above."""
    rules = prediction_blocking_rules(matching, exclusive_sources, column_names(records))
    sample = min(1.0, EXACT_COUNT_RECORDS / record_count) if record_count else 1.0
    # Named as configured, not by the SQL they are run as (with stop-key flags, sources).
    counts = [
        replace(count, rule=blocking_sql(rule))
        for rule, count in zip(
            matching.blocking_rules, count_comparisons(records, rules, sample=sample), strict=True
        )
    ]
    kept: list[BlockingRule] = []
    dropped: list[RuleCount] = []
    budget = matching.max_comparisons
    for i, (rule, count) in enumerate(zip(matching.blocking_rules, counts, strict=True)):
        if i > 0 and count.marginal > budget:
            log.warning(
                "blocking rule %s would add %s pairs (matching.max_comparisons %s): left out",
                count.rule,
                f"{count.marginal:,}",
                f"{budget:,}",
            )
            dropped.append(count)
            continue
        kept.append(rule)
    if dropped:
        matching = matching.model_copy(update={"blocking_rules": kept})
    return Budget(matching, counts, dropped, budget)
