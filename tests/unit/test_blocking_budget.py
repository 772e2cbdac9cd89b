"""Comparison counts before predicting, and the cap on a runaway blocking rule."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from splink import DuckDBAPI

from matching.blocking import count_comparisons, within_budget
from matching.model import blocking_rule
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


def test_a_rule_over_budget_is_left_out_and_named() -> None:
    rules = [blocking_rule(["gtin"]), blocking_rule(["title_lsh"])]
    kept, counts, dropped = within_budget(_records(), rules, max_comparisons=100)
    assert kept == rules[:1]
    assert [d.rule for d in dropped] == [counts[1].rule]
    kept, _, dropped = within_budget(_records(), rules, max_comparisons=800)
    assert kept == rules and not dropped
