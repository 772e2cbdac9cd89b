"""The one door to Splink: every other module imports Splink's names from here.

Splink's public API does not name the types e360 passes around (comparison and blocking-rule
creators, its dataframes and backends), and those live under `splink.internals`, which may
move in any release. Re-exporting them from one module keeps an upgrade to one file; the
import contract `splink-adapter` (pyproject.toml) fails any other module importing Splink.
"""

from __future__ import annotations

from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.blocking_rule_library import CustomRule
from splink.internals.blocking_rule_creator import BlockingRuleCreator
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
    "SplinkDataFrame",
    "SplinkDialect",
    "SplinkException",
    "block_on",
    "cl",
    "cll",
    "count_comparisons_from_blocking_rules",
    "records_to_waterfall_data",
    "spark_backend",
    "spark_similarity_jar",
]


def spark_backend(spark_session: Any) -> DatabaseAPI:
    """Splink's Spark backend (ImportError without the `spark` extra: pyspark is optional)."""
    from splink import SparkAPI

    return SparkAPI(spark_session=spark_session)


def spark_similarity_jar() -> str:
    """The jar of Splink's string similarity UDFs (Jaro-Winkler and friends) for Spark."""
    from splink.backends.spark import similarity_jar_location

    return similarity_jar_location()
