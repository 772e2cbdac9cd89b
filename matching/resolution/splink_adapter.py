"""The one door to Splink: every other module imports Splink's names from here.

Splink's public API does not name the types e360 passes around (comparison and blocking-rule
creators, its dataframes and backends), and those live under `splink.internals`, which may
move in any release; training and explaining also read and set linker state Splink keeps
private (λ, the EM history, the trained m estimates). Both sit here, so a Splink upgrade is
checked in one file; the import contract `splink-adapter` (pyproject.toml) fails any other
module importing Splink.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.blocking_rule_creator_utils import to_blocking_rule_creator
from splink.internals.charts import SplinkChart
from splink.internals.comparison_creator import ComparisonCreator
from splink.internals.comparison_level_creator import ComparisonLevelCreator
from splink.internals.database_api import DatabaseAPI
from splink.internals.dialects import SplinkDialect
from splink.internals.exceptions import SplinkException
from splink.internals.splink_dataframe import SplinkDataFrame
from splink.internals.waterfall_chart import records_to_waterfall_data

__all__ = [
    "BlockingRuleCreator",
    "ComparisonCreator",
    "ComparisonLevelCreator",
    "CustomRule",
    "DatabaseAPI",
    "DuckDBAPI",
    "Linker",
    "SettingsCreator",
    "SplinkChart",
    "SplinkDataFrame",
    "SplinkDialect",
    "SplinkException",
    "apply_trained_values",
    "block_on",
    "cl",
    "cll",
    "column_names",
    "comparison_levels",
    "count_comparisons_from_blocking_rules",
    "em_iterations",
    "level_parameters",
    "linker_backend",
    "max_em_iterations",
    "pair_columns",
    "prior_of",
    "retain_intermediate_columns",
    "scores_only",
    "set_prior",
    "spark_backend",
    "spark_session_of",
    "spark_similarity_jar",
    "term_frequency_columns",
    "to_blocking_rule_creator",
    "trained_m_probabilities",
    "waterfall_data",
]


def spark_backend(spark_session: Any) -> DatabaseAPI:
    """Splink's Spark backend (ImportError without the `spark` extra: pyspark is optional)."""
    from splink import SparkAPI

    return SparkAPI(spark_session=spark_session)


def spark_session_of(backend: DatabaseAPI) -> Any:
    """The Spark session behind Splink's Spark backend."""
    from splink import SparkAPI

    assert isinstance(backend, SparkAPI)
    return backend.spark


def spark_similarity_jar() -> str:
    """The jar of Splink's string similarity UDFs (Jaro-Winkler and friends) for Spark."""
    from splink.backends.spark import similarity_jar_location

    return similarity_jar_location()


# Linker state without a public accessor in Splink 5 --------------------------------------


def prior_of(linker: Linker) -> float:
    """λ: the probability that two records drawn at random match."""
    return float(linker._settings_obj._probability_two_random_records_match)


def set_prior(linker: Linker, value: float) -> None:
    linker._settings_obj._probability_two_random_records_match = value


@contextmanager
def model_restored_on_failure(linker: Linker) -> Iterator[None]:
    """Put the linker's comparisons and λ back when the block raises: an EM session takes
    the comparisons its rule blocks on out of the linker's own settings while it runs, and
    only a session that finishes returns them."""
    saved = linker._settings_obj.core_model_settings.copy()
    try:
        yield
    except BaseException:
        linker._settings_obj.core_model_settings = saved
        raise


def max_em_iterations(linker: Linker) -> int:
    return int(linker._settings_obj.training_settings.max_iterations)


def em_iterations(session: Any) -> int:
    """The iterations one EM training session ran."""
    return len(session._core_model_settings_history)


def comparison_levels(linker: Linker) -> list[Any]:
    """Every comparison level but the null ones, in the settings' order."""
    return [
        level
        for comparison in linker._settings_obj.comparisons
        for level in comparison._comparison_levels_excluding_null
    ]


def trained_m_probabilities(level: Any) -> list[dict[str, Any]]:
    """The level's m estimates, one per training session: Splink's own list, so deleting
    from it forgets the estimates (then `apply_trained_values`)."""
    return level._trained_m_probabilities


def apply_trained_values(linker: Linker) -> None:
    """Recompute each level's m and u from its trained estimates."""
    linker._populate_m_u_from_trained_values()


def term_frequency_columns(linker: Linker) -> list[str]:
    """Every column the model adjusts for term frequency (comparisons ask for some too)."""
    return [c.unquote().name for c in linker._settings_obj._term_frequency_columns]


def column_names(frame: SplinkDataFrame) -> list[str]:
    return [c.unquote().name for c in frame.columns]


def linker_backend(linker: Linker) -> DatabaseAPI:
    return linker._db_api


@contextmanager
def scores_only(linker: Linker) -> Iterator[None]:
    """Predictions without the compared values (`retain_matching_columns` off) inside the
    block: a scorer that keeps ids, sources and probabilities need not materialise every
    compared column of every candidate pair."""
    settings = linker._settings_obj
    saved = settings._retain_matching_columns
    settings._retain_matching_columns = False
    try:
        yield
    finally:
        settings._retain_matching_columns = saved


def retain_intermediate_columns(linker: Linker) -> None:
    """Keep each comparison's partial weight in the predictions (waterfall charts read it)."""
    linker._settings_obj._retain_intermediate_calculation_columns = True


def waterfall_data(linker: Linker, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The match-weight waterfall of scored pairs (`rows` with intermediate columns)."""
    return records_to_waterfall_data(rows, linker._settings_obj, False)


def level_parameters(linker: Linker) -> dict[str, dict[int, tuple[float, float]]]:
    """(m, u) per comparison and comparison vector value, as Splink applies them (its
    defaults where the model names none)."""
    return {
        comparison.output_column_name: {
            level.comparison_vector_value: (float(level.m_probability), float(level.u_probability))
            for level in comparison._comparison_levels_excluding_null
        }
        for comparison in linker._settings_obj.comparisons
    }


def pair_columns(linker: Linker) -> list[tuple[str, str, str]]:
    """(comparison, its comparison vector column, its match weight column) in the predictions
    of a linker that retains intermediate columns (the weight column leaves out any
    term-frequency adjustment)."""
    return [
        (c.output_column_name, c._gamma_column_name, c._mw_column_name)
        for c in linker._settings_obj.comparisons
    ]
