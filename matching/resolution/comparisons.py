"""Comparisons Splink's library lacks, for product data, and a faster form of one it has.

Written in DuckDB SQL with `base_dialect_str`, so Splink translates them for Spark.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from e360.sql import quote
from matching.resolution.splink_adapter import (
    ComparisonCreator,
    ComparisonLevelCreator,
    SplinkDialect,
    cl,
    cll,
)

# The levels of a CustomComparison as Splink types them (a list is invariant: say it whole).
Levels = list[ComparisonLevelCreator | dict[str, Any]]


def pair_column(column: str, side: str) -> str:
    """One side's copy of a column in Splink's pairwise SQL ("name_l", "name_r"), quoted."""
    return quote(f"{column}_{side}")


class DamerauLevenshteinLevel(cll.DamerauLevenshteinLevel):
    """Splink's level (the same pairs, label and plain-language name), computed where it can
    hold: a Damerau-Levenshtein distance of at most k needs a Levenshtein distance of at most
    2k (a swap is two substitutions), and the plain distance costs a fifth of DuckDB's
    Damerau-Levenshtein. Most candidate pairs are far apart, so most never reach the second
    (the e-mail comparison's two levels were four fifths of the customer predict's comparison
    vectors)."""

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        self.col_expression.sql_dialect = sql_dialect
        col = self.col_expression
        bound = f"{sql_dialect.levenshtein_function_name}({col.name_l}, {col.name_r})"
        return (
            f"{bound} <= {2 * int(self.distance_threshold)} and {super().create_sql(sql_dialect)}"
        )


class DamerauLevenshteinAtThresholds(cl.DamerauLevenshteinAtThresholds):
    """Splink's comparison, its distance levels `DamerauLevenshteinLevel` above."""

    def create_comparison_levels(self) -> list[ComparisonLevelCreator]:
        return [
            DamerauLevenshteinLevel(level.col_expression, level.distance_threshold)
            if isinstance(level, cll.DamerauLevenshteinLevel)
            else level
            for level in super().create_comparison_levels()
        ]


def word_overlap(column: str) -> str:
    """SQL: the Jaccard similarity of the two sides' space-separated words (order ignored;
    null when both are empty). Written in functions Splink transpiles to Spark as well."""
    left = f"str_split({pair_column(column, 'l')}, ' ')"
    right = f"str_split({pair_column(column, 'r')}, ' ')"
    return (
        f"(cast(array_length(array_intersect({left}, {right})) as double) / "
        f"nullif(array_length(array_distinct(array_concat({left}, {right}))), 0))"
    )


def model_number(column: str) -> ComparisonCreator:
    """Exact; one is the other plus a suffix (colour or region code: SL40 vs SL40GY); one
    holds the other (a field listing several codes, "2458Z00140 K712PRO", or a code inside a
    longer part number); else.

    A near miss in edit distance (X200 vs X300) is another model, so there is no fuzzy level.
    """
    left, right = pair_column(column, "l"), pair_column(column, "r")
    prefix = (
        f"(length({left}) >= 3 and length({right}) >= 3) and "
        f"(substr({left}, 1, length({right})) = {right} "
        f"or substr({right}, 1, length({left})) = {left})"
    )
    contains = (
        f"(length({left}) >= 4 and length({right}) >= 4) and "
        f"(strpos({left}, {right}) > 0 or strpos({right}, {left}) > 0)"
    )
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.CustomLevel(prefix, "one extends the other", base_dialect_str="duckdb"),
            cll.CustomLevel(contains, "one holds the other", base_dialect_str="duckdb"),
            cll.ElseLevel(),
        ],
        output_column_name=column,
        comparison_description="model number: exact, suffix variant, contained, different",
    )


def at_thresholds(
    column: str,
    score: str,
    thresholds: Sequence[float],
    level: Callable[[float], tuple[str, str]],
    description: str,
) -> ComparisonCreator:
    """Null, exact, then one level per threshold on a SQL `score` (`level(t)` gives the
    condition on `score` and the label), else."""
    levels: Levels = [cll.NullLevel(column), cll.ExactMatchLevel(column)]
    for t in thresholds:
        condition, label = level(t)
        levels.append(cll.CustomLevel(condition, label, base_dialect_str="duckdb"))
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(
        comparison_levels=levels, output_column_name=column, comparison_description=description
    )


def token_jaccard(column: str, thresholds: Sequence[float] = (0.6, 0.35)) -> ComparisonCreator:
    """Jaccard similarity of the space-separated token sets (word overlap, order ignored)."""
    score = word_overlap(column)
    return at_thresholds(
        column,
        score,
        thresholds,
        lambda t: (f"{score} >= {t}", f"token Jaccard >= {t}"),
        "token set Jaccard similarity",
    )


def _token_list(column: str, side: str) -> str:
    return f"string_split({pair_column(column, side)}, ' ')"


def weighted_tokens(
    column: str,
    jaccard: Sequence[float] = (0.7, 0.45, 0.25),
    containment: float | None = 0.8,
    embedding_column: str | None = None,
    cosine: float = 0.9,
) -> ComparisonCreator:
    """Weighted token overlap of `matching.standardize.text_features.weighted_tokens` columns (tokens repeated by
    their fixed IDF-like weight, so list sizes are weight sums).

    Levels: exact; weighted Jaccard >= each of `jaccard` in turn, with, after the first,
    "the lighter side's weight is >= `containment` inside the other" (a catalogue title
    inside a shop's longer title and description); else. With `embedding_column`, the
    titles' meaning refines the same comparison (one piece of evidence, not two counted
    twice): "other words, the same meaning" above the weakest overlap. Meaning never lifts
    a pair whose words already overlap: look-alike models (AA30 vs AA40 TV) mean the same.
    """
    left, right = _token_list(column, "l"), _token_list(column, "r")
    shared = f"cast(array_length(array_intersect({left}, {right})) as double)"
    union = f"(array_length({left}) + array_length({right}) - {shared})"
    weighted_jaccard = f"({shared} / nullif({union}, 0))"
    contained = f"({shared} / nullif(least(array_length({left}), array_length({right})), 0))"
    top, middle, low = jaccard
    levels: Levels = [cll.NullLevel(column), cll.ExactMatchLevel(column)]
    levels.append(_level(f"{weighted_jaccard} >= {top}", f"weighted Jaccard >= {top}"))
    if containment is not None:
        levels.append(_level(f"{contained} >= {containment}", f"contained >= {containment}"))
    levels.append(_level(f"{weighted_jaccard} >= {middle}", f"weighted Jaccard >= {middle}"))
    if embedding_column:
        levels.append(_AndCosineLevel("1 = 1", embedding_column, cosine, f"cosine >= {cosine}"))
    levels.append(_level(f"{weighted_jaccard} >= {low}", f"weighted Jaccard >= {low}"))
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(
        comparison_levels=levels,
        output_column_name=column,
        comparison_description="IDF-weighted token overlap"
        + (" and embedding cosine" if embedding_column else ""),
    )


class _AndCosineLevel(ComparisonLevelCreator):
    """A DuckDB-dialect condition (translated by Splink) and a cosine level, together."""

    def __init__(self, sql: str, embedding_column: str, threshold: float, label: str):
        self.sql = sql
        self.cosine = CosineLevel(embedding_column, threshold)
        self.label = label

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        condition = cll.CustomLevel(self.sql, base_dialect_str="duckdb").create_sql(sql_dialect)
        return f"({condition}) and ({self.cosine.create_sql(sql_dialect)})"

    def create_label_for_charts(self) -> str:
        return self.label


def _level(sql: str, label: str) -> cll.CustomLevel:
    return cll.CustomLevel(sql, label, base_dialect_str="duckdb")


def units(column: str) -> ComparisonCreator:
    """Quantity tokens (16gb, 5.5in; `text_features.unit_tokens`): the same; a conflict (a
    unit both sides state with no value in common: 32gb vs 64gb is another product);
    some in common; else (nothing comparable)."""
    left, right = _token_list(column, "l"), _token_list(column, "r")
    kinds_l, kinds_r = _unit_kinds(column, "l"), _unit_kinds(column, "r")
    shared_values = f"array_length(array_intersect({left}, {right}))"
    shared_kinds = f"array_length(array_intersect({kinds_l}, {kinds_r}))"
    same = f"{shared_values} = array_length({left}) and {shared_values} = array_length({right})"
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            _level(same, "same quantities"),
            _level(f"{shared_kinds} > {shared_values}", "a stated quantity differs"),
            _level(f"{shared_values} > 0", "some quantities in common"),
            cll.ElseLevel(),
        ],
        output_column_name=column,
        comparison_description="quantities: same, conflicting, overlapping, not comparable",
    )


def _unit_kinds(column: str, side: str) -> str:
    # no lambda: DuckDB deprecates `x -> ...`, Spark has no other form
    return f"array_distinct(string_split(regexp_replace({pair_column(column, side)}, '[0-9.]+', '', 'g'), ' '))"


class CosineLevel(cll.CosineSimilarityLevel):
    """Splink's cosine level, on lists: its DuckDB form needs fixed-size ARRAY columns, so on
    DuckDB this uses list_cosine_similarity; on Spark, Splink's higher-order-function SQL."""

    def create_sql(self, sql_dialect: SplinkDialect) -> str:
        if sql_dialect.sql_dialect_str != "duckdb":
            return super().create_sql(sql_dialect)
        self.col_expression.sql_dialect = sql_dialect
        col = self.col_expression
        return f"list_cosine_similarity({col.name_l}, {col.name_r}) >= {self.similarity_threshold}"


def embedding_cosine(
    column: str, thresholds: Sequence[float] = (0.95, 0.85, 0.7)
) -> ComparisonCreator:
    """Cosine similarity of embedding vectors (`matching.standardize.embeddings`), level by level.

    Vectors are variable-length lists (an Arrow list column, as the lake stores it).
    """
    levels: Levels = [cll.NullLevel(column)]
    levels += [CosineLevel(column, t) for t in thresholds]
    levels.append(cll.ElseLevel())
    return cl.CustomComparison(
        comparison_levels=levels,
        output_column_name=column,
        comparison_description="embedding cosine similarity",
    )
