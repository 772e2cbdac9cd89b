"""How many pairs blocking rules generate, counted before predicting, and a cap on runaways.

Text blocking (MinHash buckets of titles) can produce huge blocks on a catalogue where many
listings share their words ("case", "cable"): the count is estimated from a sample of the
records first (Splink's blocking analysis, which handles exploded array columns), and a
rule that alone would add more pairs than the budget is left out and named. Before either,
`without_stop_buckets` takes the buckets of common words out of the records, so such a rule is
bounded where it grows fastest instead of lost whole.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from e360.config import BlockingRule, MatchingConfig
from e360.zones import display_columns
from matching.resolution.settings import prediction_blocking_rules
from matching.resolution.splink_adapter import (
    BlockingRuleCreator,
    SplinkDataFrame,
    count_comparisons_from_blocking_rules,
)
from matching.standardize.lsh import EXPLODED_COLUMNS, drop_stop_buckets, stop_bucket_cap

log = logging.getLogger(__name__)


def as_matched(
    records: pa.Table, entity: str, matching: MatchingConfig, *, population: int | None = None
) -> pa.Table:
    """The standardized records as every matching step sees them (a run's scoring, training,
    the teach page, `e360 check`): without display values, and without the keys of
    stop-buckets, so all of them score the same candidate pairs (`population`: as in
    `without_stop_buckets`, for a sample)."""
    shown = [c for c in display_columns(entity).values() if c in records.column_names]
    return without_stop_buckets(records.drop_columns(shown), matching, population=population)


def without_stop_buckets(
    records: pa.Table, matching: MatchingConfig, *, population: int | None = None
) -> pa.Table:
    """The records as blocking sees them: the exploded columns of the prediction rules without
    the keys of buckets over `matching.max_bucket_size` records (by default max(50, sqrt(n))).

    `population`: the records `records` were sampled from, when a sample (the cap, sized for
    the whole, is scaled to it)."""
    columns = sorted(
        {c for r in matching.blocking_rules if isinstance(r, list) for c in r}
        & EXPLODED_COLUMNS
        & set(records.column_names)
    )
    population = population or records.num_rows
    cap = matching.max_bucket_size or stop_bucket_cap(population)
    if population > records.num_rows:
        cap = max(2, round(cap * records.num_rows / population))
    for column in columns:
        records = drop_stop_buckets(records, column, cap)
    return records


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
    rules = prediction_blocking_rules(matching, exclusive_sources)
    sample = min(1.0, EXACT_COUNT_RECORDS / record_count) if record_count else 1.0
    counts = count_comparisons(records, rules, sample=sample)
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
