"""The dataflow runs one SQL text and one vectorised UDF alike on DuckDB and Spark local."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from e360.config import EngineSettings
from e360.dataflow import Dataflow, DuckDBDataflow, VectorisedUdf
from matching.resolution.engine import dataflow_for

pytestmark = pytest.mark.spark


def _initials_udf() -> VectorisedUdf:
    # Defined inside a function so Spark's workers get it by value: they cannot import tests.
    def initials(first: pa.Array, last: pa.Array) -> pa.Array:
        return pc.binary_join_element_wise(pc.utf8_slice_codeunits(first, 0, 1), last, " ")

    return VectorisedUdf("e360_test_initials", initials, (pa.string(), pa.string()), pa.string())


INITIALS = _initials_udf()
PEOPLE = pa.table(
    {
        "id": pa.array([1, 2, 3, 4], pa.int64()),
        "first": ["Ada", "Émile", None, "Bo"],
        "last": ["Lovelace", "Zola", "Nobody", "Li"],
        "team": ["x", "x", "y", None],
    }
)
QUERY = """
    select id, e360_test_initials(first, last) as initials,
           count(*) over (partition by team) as team_size,
           regexp_replace(lower(last), '[aeiou]', '', 'g') as consonants
    from people
"""


@pytest.fixture(scope="module", params=["duckdb", "spark"])
def dataflow(request: pytest.FixtureRequest, tmp_path_factory) -> Iterator[Dataflow]:
    engine = EngineSettings.model_validate(
        {"type": request.param, "spark_conf": {"spark.master": "local[2]"}}
    )
    flow = dataflow_for(engine, Path(tmp_path_factory.mktemp("dataflow")))
    yield flow
    if isinstance(flow, DuckDBDataflow):
        flow.close()


def test_sql_and_udfs_give_one_result_on_both_engines(dataflow: Dataflow) -> None:
    dataflow.register("people", PEOPLE)
    dataflow.register_udf(INITIALS)
    dataflow.register_udf(INITIALS)  # registering twice is harmless
    dataflow.create_table("initials", QUERY)
    out = dataflow.to_arrow("select * from initials order by id").to_pylist()
    assert out == [
        {"id": 1, "initials": "A Lovelace", "team_size": 2, "consonants": "lvlc"},
        {"id": 2, "initials": "É Zola", "team_size": 2, "consonants": "zl"},
        {"id": 3, "initials": None, "team_size": 1, "consonants": "nbdy"},
        {"id": 4, "initials": "B Li", "team_size": 1, "consonants": "l"},
    ]
    batches = list(dataflow.batches("select id from initials order by id", batch_rows=3))
    assert sum(b.num_rows for b in batches) == 4 and max(b.num_rows for b in batches) <= 3
    assert dataflow.scalar("select count(*) from initials where team_size = 2") == 2


def test_a_relation_replaced_is_read_afresh(dataflow: Dataflow) -> None:
    dataflow.register("people", PEOPLE)
    dataflow.create_table("counted", "select count(*) as n from people")
    dataflow.register("people", PEOPLE.slice(0, 1))
    dataflow.create_table("counted", "select count(*) as n from people")
    assert dataflow.scalar("select n from counted") == 1
    dataflow.drop("counted")
    dataflow.drop("counted")  # dropping what is gone is harmless
