"""Splink backends behind one factory: DuckDB embedded, Spark in production."""

from __future__ import annotations

import duckdb
import pyarrow as pa
from splink.internals.database_api import DatabaseAPI
from splink.internals.splink_dataframe import SplinkDataFrame

from e360.config import EngineSettings
from e360.errors import MatchError


def splink_backend(engine: EngineSettings) -> DatabaseAPI:
    if engine.type == "duckdb":
        from splink import DuckDBAPI

        con = duckdb.connect()
        if engine.threads:
            con.execute(f"SET threads = {int(engine.threads)}")
        if engine.memory_limit:
            con.execute("SET memory_limit = ?", [engine.memory_limit])
        return DuckDBAPI(con)
    try:
        from pyspark.sql import SparkSession
        from splink import SparkAPI
    except ImportError:
        raise MatchError(
            "deployment.engine.type is 'spark' but pyspark is not installed: "
            "install e360 with the 'spark' extra"
        ) from None
    builder = SparkSession.builder.appName("e360")
    for key, value in engine.spark_conf.items():
        builder = builder.config(key, value)
    return SparkAPI(spark_session=builder.getOrCreate())


def register(backend: DatabaseAPI, table: pa.Table, name: str) -> SplinkDataFrame:
    """Hand an Arrow table to the backend as a Splink input table."""
    if backend.sql_dialect.sql_dialect_str == "spark":
        spark = backend.spark  # type: ignore[attr-defined]
        return backend.register(spark.createDataFrame(table.to_pandas()), table_name=name)
    return backend.register(table, table_name=name)
