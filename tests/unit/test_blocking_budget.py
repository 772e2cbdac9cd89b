"""Comparison counts before predicting, and the cap on a runaway blocking rule."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from splink import DuckDBAPI

from e360.config import MatchingConfig
from matching.resolution.blocking import count_comparisons, within_budget
from matching.resolution.settings import blocking_rule
from matching.standardize import standardize_products


def _records():
    # 40 listings sharing their words (one runaway text block), two pairs sharing a GTIN
    products = standardize_products([{"title": "usb charging cable"} for _ in range(40)])
    gtins = ["5012345678900", "5012345678900", "4006381333931", "4006381333931"]
    table = pa.table(
        {
            "record_id": [f"r{i}" for i in range(40)],
            "gtin": gtins + [None] * 36,
            "title_lsh": pa.array([p["title_lsh"] for p in products], pa.list_(pa.string())),
        }
    )
    return DuckDBAPI(duckdb.connect()).register(table, table_name="budget_records")


def test_counts_are_exact_on_the_whole_data_and_handle_exploded_buckets() -> None:
    rules = [blocking_rule(["gtin"]), blocking_rule(["title_lsh"])]
    gtin, text = count_comparisons(_records(), rules)
    assert gtin.marginal == 2 and not gtin.is_estimate
    # one block of 40 listings however many buckets they share: C(40, 2), minus GTIN pairs
    assert text.marginal == 780 - 2
    assert text.cumulative == 780


def _matching(max_comparisons: int) -> MatchingConfig:
    return MatchingConfig.model_validate(
        {
            "blocking_rules": [["gtin"], ["title_lsh"]],
            "comparisons": [{"type": "exact", "column": "gtin"}],
            "training": {
                "deterministic_rules": ["l.gtin = r.gtin"],
                "em_blocking_rules": [["gtin"]],
            },
            "max_comparisons": max_comparisons,
        }
    )


def test_a_rule_over_budget_is_left_out_and_named() -> None:
    budget = within_budget(_records(), _matching(100), record_count=40)
    assert budget.matching.blocking_rules == [["gtin"]]
    assert [d.rule for d in budget.dropped] == [budget.counts[1].rule]
    assert budget.comparisons == 2
    report = budget.as_dict()
    assert [r["left_out"] for r in report["rules"]] == [False, True]
    assert report["rules"][1]["pairs"] == 778 and not report["is_estimate"]

    budget = within_budget(_records(), _matching(800), record_count=40)
    assert budget.matching.blocking_rules == [["gtin"], ["title_lsh"]] and not budget.dropped
    assert budget.comparisons == 780


def test_the_first_rule_stays_whatever_it_costs() -> None:
    # A run must still score something: the budget guards against a runaway extra rule.
    budget = within_budget(_records(), _matching(1), record_count=40)
    assert budget.matching.blocking_rules == [["gtin"]]


def test_large_inputs_are_counted_on_a_sample() -> None:
    budget = within_budget(_records(), _matching(800), record_count=1_000_000)
    assert budget.as_dict()["is_estimate"]
