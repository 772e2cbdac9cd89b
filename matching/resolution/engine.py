"""Splink backends behind one factory: DuckDB embedded, Spark in production."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from e360.config import E360Config, EngineSettings
from e360.dataflow import Dataflow, DuckDBDataflow, SparkDataflow
from e360.errors import E360Error, MatchError
from e360.udf_workers import UdfWorkers
from matching.resolution.splink_adapter import (
    DatabaseAPI,
    DuckDBAPI,
    SplinkDataFrame,
    spark_backend,
    spark_session_of,
    spark_similarity_jar,
)


def splink_backend(config: E360Config) -> DatabaseAPI:
    return backend_for(config.deployment.engine, config.root)


def backend_for(engine: EngineSettings, root: Path) -> DatabaseAPI:
    """A Splink backend for the engine settings; `root` holds Spark's default checkpoints."""
    if engine.type == "duckdb":
        return DuckDBAPI(duckdb_connection(engine, root))
    return spark_backend(spark_session(engine, root))


def dataflow_for(engine: EngineSettings, root: Path) -> Dataflow:
    """The engine zone transforms run on: the same engine Splink scores on."""
    if engine.type == "duckdb":
        count = udf_workers(engine)
        workers = UdfWorkers(count, preload=UDF_MODULES) if count else None
        return DuckDBDataflow(duckdb_connection(engine, root), workers)
    return SparkDataflow(spark_session(engine, root))


# What a UDF worker imports before its first batch: the standardisers (events' parsers are
# standardisers too).
UDF_MODULES = ("matching.standardize.vectorised",)


def udf_workers(engine: EngineSettings) -> int:
    """UDF worker processes for DuckDB (`EngineSettings.udf_workers`)."""
    if engine.udf_workers is not None:
        return engine.udf_workers
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    threads = engine.threads or cores or 1
    # One thread calls one UDF at a time: a single worker would only add the round trips.
    return threads if threads >= 2 else 0


def duckdb_connection(engine: EngineSettings, root: Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB bounded by the engine's memory limit, spilling under `root` (by
    default DuckDB spills to `.tmp` in whatever folder the process was started from)."""
    con = duckdb.connect()
    if engine.threads:
        con.execute(f"SET threads = {int(engine.threads)}")
    con.execute("SET memory_limit = ?", [engine.memory_limit or default_memory_limit()])
    con.execute("SET temp_directory = ?", [engine.spill_dir or str(root / "duckdb-spill")])
    return con


def default_memory_limit() -> str:
    """A quarter of the machine's memory, at least 1 GB: the rest is for the Arrow tables,
    Python and the other connections of the process."""
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return f"{max(1024, total // 4 // 2**20)}MiB"


def spark_session(engine: EngineSettings, root: Path) -> Any:
    """The process's SparkSession for the engine settings (created on first use)."""
    try:
        from pyspark.sql import SparkSession  # the optional `spark` extra
    except ImportError:
        raise MatchError(
            "deployment.engine.type is 'spark' but pyspark is not installed: "
            "install e360 with the 'spark' extra"
        ) from None
    # Python UDFs run in worker processes: they need this interpreter (its packages), not
    # whichever python3 is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # Production sets spark.master (EMR Serverless, Glue) through spark_conf; alone it is local.
    conf = {
        "spark.master": "local[*]",
        "spark.ui.enabled": "false",
        "spark.sql.session.timeZone": "UTC",
        # Splink's string similarity UDFs (Jaro-Winkler and friends) ship as a jar.
        "spark.jars": spark_similarity_jar(),
        **engine.spark_conf,
    }
    builder = SparkSession.builder.appName("e360")
    for key, value in conf.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    # Splink breaks long lineages with checkpoints; production points this at S3.
    spark.sparkContext.setCheckpointDir(engine.checkpoint_dir or str(root / "spark-checkpoints"))
    return spark


def register(backend: DatabaseAPI, table: pa.Table, name: str) -> SplinkDataFrame:
    """Hand an Arrow table to the backend as a Splink input table."""
    if backend.sql_dialect.sql_dialect_str == "spark":
        spark = spark_session_of(backend)
        # One Spark session serves every resolution of a process (each entity, each run), and
        # Splink refuses a name its session already holds: the last resolution's view goes.
        spark.catalog.dropTempView(name)
        return backend.register(spark.createDataFrame(table), table_name=name)
    return backend.register(table, table_name=name)


def close_backend(backend: DatabaseAPI) -> None:
    """Free what a resolution left behind: the DuckDB connection holds every scored pair."""
    con = getattr(backend, "duckdb_con", None)
    if con is not None:
        con.close()
    else:
        backend.delete_tables_created_by_splink_from_db()


@contextmanager
def splink_session(backend: DatabaseAPI, subject: str, stage: str = "Splink") -> Iterator[None]:
    """Work on a backend, closed afterwards. Splink raises plain exceptions: they become one
    MatchError naming the subject (an entity, a mapping file) and the stage; e360's own errors
    pass unchanged."""
    try:
        yield
    except E360Error:
        raise
    except Exception as exc:
        raise MatchError(f"{subject}: {stage} failed: {type(exc).__name__}: {exc}") from exc
    finally:
        close_backend(backend)
