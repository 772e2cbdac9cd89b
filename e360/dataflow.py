"""One dataflow, two engines: zone transforms written once as SQL, run on DuckDB or Spark.

Every zone transform (standardise, conform events, assign master ids, survivorship) is SQL
built by small pure functions, in DuckDB's dialect, over named relations. A `Dataflow` runs
that SQL: DuckDB in this process, or Spark (local mode in tests, a cluster in production),
transpiled by sqlglot. What SQL cannot do (phone numbers, transliteration, embeddings) is a
vectorised UDF: a function from Arrow arrays to one Arrow array, registered once per engine
(a DuckDB Arrow UDF; a Spark Arrow UDF), so both engines call the same Python.

Relations are created as tables (`create_table`), not views, so a transform's result is
computed once however many later statements read it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import sqlglot
from duckdb.func import FunctionNullHandling, PythonUDFType

from e360.sql import quote
from e360.udf_workers import ArrowFunction, UdfWorkers, with_arity


@dataclass(frozen=True)
class VectorisedUdf:
    """A Python function over Arrow arrays (one per argument) returning one Arrow array of
    `returns`, the same length; it must not depend on how rows are batched.

    `offload`: DuckDB may run it in worker processes (`UdfWorkers`): it is pure Python worth
    a round trip per batch, and it pickles by reference (defined at module level, or a
    `RowWise` of such a function)."""

    name: str
    function: ArrowFunction
    arguments: tuple[pa.DataType, ...]
    returns: pa.DataType
    offload: bool = False


@dataclass(frozen=True)
class RowWise:
    """A per-value Python function as a UDF's function: called on each row of the arrays."""

    function: Callable[..., Any]
    returns: pa.DataType

    def __call__(self, *arrays: pa.Array) -> pa.Array:
        columns = [_values(a) for a in arrays]
        return pa.array([self.function(*row) for row in zip(*columns, strict=True)], self.returns)

    @property
    def __name__(self) -> str:
        return f"{self.function.__name__}_rows"


def _values(array: pa.Array) -> list[Any]:
    # A constant argument (a batch's vocabulary, a source's setting) becomes one Python
    # object repeated, so a cache keyed on it hashes a long text once, not once a row.
    if len(array) > 1 and pa.types.is_string(array.type):
        distinct = pc.unique(array)
        if len(distinct) == 1:
            return [distinct[0].as_py()] * len(array)
    return array.to_pylist()


class Dataflow(ABC):
    """Runs zone-transform SQL (DuckDB dialect) over named relations on one engine."""

    dialect: str  # sqlglot's name for the engine's dialect

    @abstractmethod
    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table readable as relation `name` (replacing any earlier one)."""

    @abstractmethod
    def create_table(self, name: str, query: str) -> None:
        """Compute `query` once into relation `name` (replacing any earlier one)."""

    @abstractmethod
    def to_arrow(self, query: str) -> pa.Table:
        """The result of `query` as one Arrow table (for results that fit in memory)."""

    @abstractmethod
    def batches(self, query: str, batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        """The result of `query` in record batches of at most `batch_rows` rows."""

    @abstractmethod
    def register_udf(self, udf: VectorisedUdf) -> None:
        """Make `udf` callable by name from SQL (idempotent)."""

    @abstractmethod
    def drop(self, name: str) -> None:
        """Forget relation `name` if it exists."""

    def scalar(self, query: str) -> Any:
        """The first column of the first row of `query` (None when it has no rows)."""
        table = self.to_arrow(query)
        return table.column(0)[0].as_py() if table.num_rows else None

    def translate(self, query: str) -> str:
        """`query` (DuckDB dialect) in this engine's dialect."""
        if self.dialect == "duckdb":
            return query
        return ";\n".join(sqlglot.transpile(query, read="duckdb", write=self.dialect))


class DuckDBDataflow(Dataflow):
    """The embedded engine: one DuckDB connection, Arrow in and out without copies.

    `workers`: where offloadable UDFs run (`VectorisedUdf.offload`), stopped with the flow
    (their caches grow with the data: they would hold that memory through later stages);
    without, in this process, one at a time."""

    dialect = "duckdb"

    def __init__(
        self, con: duckdb.DuckDBPyConnection | None = None, workers: UdfWorkers | None = None
    ) -> None:
        self.con = con if con is not None else duckdb.connect()
        self.workers = workers
        self._udfs: set[str] = set()
        # Arrow tables handed to DuckDB must outlive the relations that scan them.
        self._registered: dict[str, pa.Table] = {}

    def register(self, name: str, table: pa.Table) -> None:
        self.drop(name)
        self._registered[name] = table
        self.con.register(name, table)

    def create_table(self, name: str, query: str) -> None:
        self.drop(name)
        self.con.execute(f"create temp table {quote(name)} as {query}")

    def to_arrow(self, query: str) -> pa.Table:
        return self.con.sql(query).to_arrow_table()

    def batches(self, query: str, batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        reader = self.con.sql(query).to_arrow_reader(batch_rows)
        yield from reader

    def register_udf(self, udf: VectorisedUdf) -> None:
        if udf.name in self._udfs:
            return
        arity = len(udf.arguments)
        if udf.offload and self.workers is not None:
            function = self.workers.offloading(udf.function, arity)
        else:
            function = with_arity(_forwarding(udf.function), arity)
        self.con.create_function(
            udf.name,
            function,
            [_duckdb_type(t) for t in udf.arguments],
            _duckdb_type(udf.returns),
            type=PythonUDFType.ARROW,
            null_handling=FunctionNullHandling.SPECIAL,
            side_effects=False,
        )
        self._udfs.add(udf.name)

    def drop(self, name: str) -> None:
        if self._registered.pop(name, None) is not None:
            self.con.unregister(name)
        self.con.execute(f"drop table if exists {quote(name)}")

    def close(self) -> None:
        self.con.close()
        if self.workers is not None:
            self.workers.close()


def _forwarding(function: ArrowFunction) -> ArrowFunction:
    # A plain function of arrays, whatever `function` is (a `RowWise`, a closure): what
    # Spark's type inspection expects, and what DuckDB's signature is set on.
    def call(*arrays: pa.Array) -> pa.Array:
        return function(*arrays)

    return call


class SparkDataflow(Dataflow):
    """The distributed engine: a SparkSession; relations are temp views over cached frames."""

    dialect = "spark"

    def __init__(self, spark: Any) -> None:
        self.spark = spark
        self._udfs: set[str] = set()
        self._frames: dict[str, Any] = {}

    def register(self, name: str, table: pa.Table) -> None:
        self.drop(name)
        frame = self.spark.createDataFrame(table)
        self._frames[name] = frame
        frame.createOrReplaceTempView(name)

    def create_table(self, name: str, query: str) -> None:
        # Computed now and cut from its lineage: a transform of many steps would otherwise
        # carry every earlier step's plan along (and analyse it again) in each later one.
        frame = self.spark.sql(self.translate(query)).localCheckpoint(eager=True)
        self.drop(name)
        self._frames[name] = frame
        frame.createOrReplaceTempView(name)

    def to_arrow(self, query: str) -> pa.Table:
        return self.spark.sql(self.translate(query)).toArrow()

    def batches(self, query: str, batch_rows: int = 100_000) -> Iterator[pa.RecordBatch]:
        yield from self.to_arrow(query).to_batches(max_chunksize=batch_rows)

    def register_udf(self, udf: VectorisedUdf) -> None:
        if udf.name in self._udfs:
            return
        from pyspark.sql.functions import arrow_udf

        # pyspark's stubs type arrow_udf's decorator forms only.
        spark_udf = arrow_udf(  # type: ignore[call-overload]
            _forwarding(udf.function), _spark_type(udf.returns)
        )
        self.spark.udf.register(udf.name, spark_udf)
        self._udfs.add(udf.name)

    def drop(self, name: str) -> None:
        frame = self._frames.pop(name, None)
        if frame is not None:
            frame.unpersist()
        self.spark.catalog.dropTempView(name)


_DUCKDB_TYPES: dict[pa.DataType, str] = {
    pa.string(): "VARCHAR",
    pa.large_string(): "VARCHAR",
    pa.int64(): "BIGINT",
    pa.int32(): "INTEGER",
    pa.float64(): "DOUBLE",
    pa.bool_(): "BOOLEAN",
    pa.date32(): "DATE",
    pa.timestamp("us"): "TIMESTAMP",
}


def _duckdb_type(data_type: pa.DataType) -> str:
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return f"{_duckdb_type(data_type.value_type)}[]"
    if data_type not in _DUCKDB_TYPES:
        raise TypeError(f"no DuckDB type for Arrow type {data_type}")
    return _DUCKDB_TYPES[data_type]


def _spark_type(data_type: pa.DataType) -> str:
    if pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        return f"array<{_spark_type(data_type.value_type)}>"
    names = {
        "VARCHAR": "string",
        "BIGINT": "bigint",
        "INTEGER": "int",
        "DOUBLE": "double",
        "BOOLEAN": "boolean",
        "DATE": "date",
        "TIMESTAMP": "timestamp_ntz",
    }
    return names[_duckdb_type(data_type)]
