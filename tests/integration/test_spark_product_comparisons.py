"""The product free-text comparisons, written in DuckDB SQL, run on Spark (local mode) as
Splink translates them, and put pairs in the same levels as on DuckDB; MinHash buckets
explode in Spark's blocking too."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from splink import Linker, SettingsCreator

from e360.config import EngineSettings
from matching.resolution.comparisons import embedding_cosine, model_number, units, weighted_tokens
from matching.resolution.engine import backend_for, register
from matching.resolution.settings import blocking_rule
from matching.standardize import embeddings, standardize_products
from tests.unit.test_product_text import duckdb_level, level_sql

pytestmark = pytest.mark.spark
SPARK_CONF = {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4"}


@pytest.fixture(scope="module")
def spark_backend(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("spark")
    return backend_for(EngineSettings(type="spark", spark_conf=SPARK_CONF), root)


def spark_level(backend, creator, left, right, arrow_type: pa.DataType) -> str:
    column = creator.get_comparison("spark").output_column_name
    table = pa.table(
        {f"{column}_l": pa.array([left], arrow_type), f"{column}_r": pa.array([right], arrow_type)}
    )
    spark = backend.spark
    spark.createDataFrame(table.to_pandas()).createOrReplaceTempView("pairs")
    return spark.sql(f"select {level_sql(creator, 'spark')} as level from pairs").first()[0]


def test_product_comparisons_level_alike_on_spark_and_duckdb(spark_backend) -> None:
    near, far, other = embeddings.embed(
        ["zorblax x1 wireless headset", "zorblax x1 headset wireless", "cast iron frying pan"]
    )
    code = "vx880 vx880~2 vx880~3"
    cases = [
        (weighted_tokens("t"), code + " headphones", code + " headphones", pa.string()),
        (weighted_tokens("t"), code + " headphones", code + " earphones", pa.string()),
        (weighted_tokens("t"), code, code + " noise cancelling wireless", pa.string()),
        (weighted_tokens("t"), code + " black", "espresso black", pa.string()),
        (units("u"), "32gb 5.5in", "32gb 5.5in", pa.string()),
        (units("u"), "32gb", "64gb", pa.string()),
        (units("u"), "32gb 5.5in", "32gb", pa.string()),
        (units("u"), "32gb", "5.5in", pa.string()),
        (embedding_cosine("e"), near, far, pa.list_(pa.float32())),
        (embedding_cosine("e"), near, other, pa.list_(pa.float32())),
        (model_number("m"), "K712", "2458Z00140K712PRO", pa.string()),
        (model_number("m"), "SL40", "SL40GY", pa.string()),
    ]
    on_duckdb = [duckdb_level(*case) for case in cases]
    on_spark = [spark_level(spark_backend, *case) for case in cases]
    assert on_spark == on_duckdb
    assert len(set(on_duckdb)) >= 6  # the cases reach distinct levels, not all "else"


def test_title_tokens_with_embedding_level_alike_on_spark(spark_backend) -> None:
    compare = weighted_tokens("t", embedding_column="e")
    vector = pa.list_(pa.float32())
    table = pa.table(
        {
            "t_l": ["wireless noise cancelling headphones"] * 3,
            "t_r": ["bluetooth anc earphones", "cast iron frying pan", "wireless noise headphones"],
            "e_l": pa.array([[1.0, 0.0]] * 3, vector),
            "e_r": pa.array([[0.95, 0.3122], [0.0, 1.0], [0.95, 0.3122]], vector),
        }
    )
    spark = spark_backend.spark
    spark.createDataFrame(table.to_pandas()).createOrReplaceTempView("title_pairs")
    rows = spark.sql(f"select {level_sql(compare, 'spark')} from title_pairs").collect()
    assert [r[0] for r in rows] == ["cosine >= 0.9", "else", "weighted Jaccard >= 0.7"]


def test_minhash_buckets_explode_in_spark_blocking(spark_backend, tmp_path: Path) -> None:
    products = standardize_products(
        [
            {"title": "Veltrix VX-880 Noise Cancelling Headphones Black"},
            {"title": "VELTRIX VX880 noise-cancelling headphones"},
            {"title": "Corvane espresso machine 15 bar"},
        ]
    )
    table = pa.table(
        {
            "record_id": ["a", "b", "c"],
            "title_weighted": [p["title_weighted"] for p in products],
            "title_lsh": [p["title_lsh"] for p in products],
        }
    )
    records = register(spark_backend, table, "lsh_products")
    settings = SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[weighted_tokens("title_weighted")],
        blocking_rules_to_generate_predictions=[blocking_rule(["title_lsh"])],
    )
    linker = Linker(records, settings)
    pairs = linker.inference.predict().as_pandas_dataframe()
    assert {tuple(sorted(p)) for p in zip(pairs.record_id_l, pairs.record_id_r, strict=True)} == {
        ("a", "b")
    }
