"""How many pairs blocking rules generate, counted before predicting, and a cap on runaways.

Text blocking (MinHash buckets of titles) can produce huge blocks on a catalogue where many
listings share their words ("case", "cable"): the count is estimated from a sample of the
records first (Splink's blocking analysis, which handles exploded array columns), and a
rule that alone would add more pairs than the budget is left out and named.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.splink_dataframe import SplinkDataFrame

log = logging.getLogger(__name__)

# Pairs a resolve may score: 50M pairs is minutes on one machine, still seconds per million
# records on Spark; beyond that a rule is not blocking.
DEFAULT_MAX_COMPARISONS = 50_000_000


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


def within_budget(
    records: SplinkDataFrame,
    rules: Sequence[BlockingRuleCreator | str],
    *,
    max_comparisons: int = DEFAULT_MAX_COMPARISONS,
    unique_id: str = "record_id",
    sample: float = 1.0,
) -> tuple[list[BlockingRuleCreator | str], list[RuleCount], list[RuleCount]]:
    """The rules to predict with, every rule's count, and the rules left out: a rule whose
    own pairs exceed the budget goes (the first rule always stays, so a run still scores)."""
    counts = count_comparisons(records, rules, unique_id=unique_id, sample=sample)
    kept: list[BlockingRuleCreator | str] = []
    dropped: list[RuleCount] = []
    for i, (rule, count) in enumerate(zip(rules, counts, strict=True)):
        if i > 0 and count.marginal > max_comparisons:
            log.warning(
                "blocking rule %s would add %s pairs (budget %s): left out",
                count.rule,
                f"{count.marginal:,}",
                f"{max_comparisons:,}",
            )
            dropped.append(count)
            continue
        kept.append(rule)
    return kept, counts, dropped
