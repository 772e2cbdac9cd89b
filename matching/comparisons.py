"""Comparisons Splink's library lacks, for product data.

Written in DuckDB SQL with `base_dialect_str`, so Splink translates them for Spark.
"""

from __future__ import annotations

from collections.abc import Sequence

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink.internals.comparison_creator import ComparisonCreator


def _q(column: str, side: str) -> str:
    return f'"{column}_{side}"'


def model_number(column: str) -> ComparisonCreator:
    """Exact; one is the other plus a suffix (colour or region code: SL40 vs SL40GY); else.

    A near miss in edit distance (X200 vs X300) is another model, so there is no fuzzy level.
    """
    left, right = _q(column, "l"), _q(column, "r")
    prefix = (
        f"(length({left}) >= 3 and length({right}) >= 3) and "
        f"(substr({left}, 1, length({right})) = {right} "
        f"or substr({right}, 1, length({left})) = {left})"
    )
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.CustomLevel(prefix, "one extends the other", base_dialect_str="duckdb"),
            cll.ElseLevel(),
        ],
        output_column_name=column,
        comparison_description="model number: exact, suffix variant, different",
    )


def token_jaccard(column: str, thresholds: Sequence[float] = (0.6, 0.35)) -> ComparisonCreator:
    """Jaccard similarity of the space-separated token sets (word overlap, order ignored)."""
    left = f"string_split({_q(column, 'l')}, ' ')"
    right = f"string_split({_q(column, 'r')}, ' ')"
    score = (
        f"(cast(len(list_intersect({left}, {right})) as double) / "
        f"nullif(len(list_distinct(list_concat({left}, {right}))), 0))"
    )
    levels = [cll.NullLevel(column), cll.ExactMatchLevel(column)]
    levels += [
        cll.CustomLevel(f"{score} >= {t}", f"token Jaccard >= {t}", base_dialect_str="duckdb")
        for t in thresholds
    ]
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(
        comparison_levels=levels,
        output_column_name=column,
        comparison_description="token set Jaccard similarity",
    )
