"""The SQL and data e360 generates for the warehouses, checked without a warehouse: the Redshift
COPY and masking statements, the WAP swap, and Arrow tables made loadable (CSV for
PostgreSQL's COPY, nested columns as JSON). The S3 staging goes to a real moto server."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
import sqlglot

from e360.config import load_config
from e360.errors import PublishError
from e360.warehouse import redshift as rs
from e360.warehouse import wap
from e360.warehouse.arrow_sql import flatten_for_load, sql_type, to_csv

ROLE = "arn:aws:iam::123456789012:role/e360-redshift-copy"


def test_copy_statements_replace_the_table_from_parquet() -> None:
    uri = rs.s3_object_uri("s3://lake/staging/", "run-1", "customer_golden", 42)
    assert uri == "s3://lake/staging/run-1/customer_golden/42.parquet"
    statements = rs.copy_statements(
        "e360_lake", "customer_golden", [("master_id", "varchar(65535)"), ("n", "bigint")],
        uri, ROLE, "eu-west-1",
    )  # fmt: skip
    drop, create, copy = statements
    assert drop == 'drop table if exists "e360_lake"."customer_golden" cascade'
    assert create.startswith(
        'create table "e360_lake"."customer_golden" ("master_id" varchar(65535)'
    )
    parsed = sqlglot.parse_one(copy, dialect="redshift")
    assert isinstance(parsed, sqlglot.exp.Copy)
    rendered = parsed.sql("redshift")
    assert f"IAM_ROLE '{ROLE}'" in rendered and "format parquet" in rendered.lower()
    assert "'s3://lake/staging/run-1/customer_golden/42.parquet'" in rendered
    for statement in (drop, create):
        assert not isinstance(sqlglot.parse_one(statement, dialect="redshift"), sqlglot.exp.Command)


@pytest.mark.parametrize(
    ("staging", "role", "message"),
    [("lake/staging", ROLE, "is not s3://"), ("s3://lake", "e360-role", "not an IAM role ARN")],
)
def test_bad_staging_settings_are_named(staging: str, role: str, message: str) -> None:
    with pytest.raises(PublishError, match=message):
        uri = rs.s3_object_uri(staging, "run-1", "t", 1)
        rs.copy_statements("s", "t", [("a", "bigint")], uri, role)


def test_masking_policies_agree_with_the_dbt_project() -> None:
    statements = rs.masking_policy_statements()
    policies = rs.masking_policies()
    assert set(policies) == {"varchar", "date"}
    for kind, names in policies.items():
        mask = next(s for s in statements if f" {names['mask']} " in s)
        unmask = next(s for s in statements if f" {names['unmask']} " in s)
        assert mask.startswith("create masking policy if not exists")
        column_type, masked = rs.MASK_EXPRESSIONS[kind]
        assert f"with (val {column_type}) using ({masked})" in mask
        assert unmask.endswith("using (val)")
        # the masked value is a Redshift expression of the column's type
        expression = sqlglot.parse_one(f"select {masked}", dialect="redshift")
        assert expression.find(sqlglot.exp.Cast) is not None


def test_schema_grants_and_swap_statements() -> None:
    grants = rs.schema_grant_statements(
        ["enterprise"], ["domain_reader", "data_steward", "domain_reader"]
    )
    assert grants == [
        'grant usage on schema "enterprise" to role "data_steward"',
        'grant usage on schema "enterprise" to role "domain_reader"',
    ]
    for statement in grants:
        assert isinstance(sqlglot.parse_one(statement, dialect="redshift"), sqlglot.exp.Grant)
    assert wap.swap_statements("enterprise", True) == [
        'drop schema if exists "enterprise__previous" cascade',
        'alter schema "enterprise" rename to "enterprise__previous"',
        'alter schema "enterprise__wap" rename to "enterprise"',
        'drop schema "enterprise__previous" cascade',
    ]
    assert wap.swap_statements("history", False) == [
        'drop schema if exists "history__previous" cascade',
        'alter schema "history__wap" rename to "history"',
    ]


def test_arrow_types_map_per_target() -> None:
    assert sql_type(pa.string(), "redshift") == "varchar(65535)"
    assert sql_type(pa.string(), "postgres") == "text"
    assert sql_type(pa.timestamp("us"), "postgres") == "timestamp"
    assert sql_type(pa.timestamp("us", tz="UTC"), "postgres") == "timestamptz"
    assert sql_type(pa.decimal128(12, 2), "redshift") == "numeric(12, 2)"
    assert sql_type(pa.list_(pa.string()), "redshift") == "varchar(65535)"


def test_csv_keeps_empty_strings_apart_from_nulls_and_nested_values_become_json() -> None:
    table = pa.table(
        {
            "s": pa.array(["", None, 'say "hi", ok'], pa.string()),
            "n": pa.array([1, None, 3], pa.int64()),
            "tags": pa.array([["a", "b"], None, []], pa.list_(pa.string())),
        }
    )
    flat = flatten_for_load(table)
    assert flat.schema.field("tags").type == pa.string()
    assert flat.column("tags").to_pylist() == ['["a", "b"]', None, "[]"]
    lines = to_csv(flat).read().decode().splitlines()
    assert lines[0].startswith('"",') and lines[1] == ",,"  # quoted empty vs unquoted null
    back = pacsv.read_csv(
        io.BytesIO("\n".join(["s,n,tags", *lines]).encode()),
        convert_options=pacsv.ConvertOptions(
            column_types={"s": pa.string(), "tags": pa.string()}, quoted_strings_can_be_null=False
        ),
    )
    assert back.column("s").to_pylist()[2] == 'say "hi", ok'


def test_parquet_staging_lands_in_s3(
    aws_server: Any, demo_config_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from e360.warehouse.loaders import LoadedTable, _stage_parquet

    aws_server.create_bucket("e360-staging")
    for key, value in {
        "AWS_ENDPOINT_URL": aws_server.endpoint, "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": aws_server.region,
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    config = load_config(
        demo_config_path,
        overrides={
            "project.root": str(tmp_path),
            "deployment.warehouse.target": "redshift",
            "deployment.warehouse.redshift.s3_staging": "s3://e360-staging/loads",
            "deployment.warehouse.redshift.iam_role_arn": ROLE,
            "deployment.warehouse.redshift.region": aws_server.region,
        },
        environ={},
    )
    data = pa.table({"master_id": ["CUS-1", "CUS-2"], "tags": [["x"], None]})
    loaded = LoadedTable("customer_golden", "m.c", 7, 2)
    staged = _stage_parquet(config, iter([(data, loaded)]), "run-9")
    assert staged == {
        "customer_golden": (
            loaded,
            [("master_id", "varchar(65535)"), ("tags", "varchar(65535)")],
            "s3://e360-staging/loads/run-9/customer_golden/7.parquet",
        )
    }
    body = (
        aws_server.client("s3")
        .get_object(Bucket="e360-staging", Key="loads/run-9/customer_golden/7.parquet")["Body"]
        .read()
    )
    staged = pq.read_table(io.BytesIO(body))
    assert staged.column("master_id").to_pylist() == ["CUS-1", "CUS-2"]
    assert staged.column("tags").to_pylist() == ['["x"]', None]


@pytest.mark.parametrize("rows", [0, 7])
def test_postgres_copy_in_slices_loads_every_row_as_it_was(
    postgres_server: Any, rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    import psycopg2

    from e360.warehouse import loaders
    from e360.warehouse.targets import DbApiConnection

    monkeypatch.setattr(loaders, "COPY_ROWS", 3)  # 7 rows: three COPYs, the last one short
    values = ["", None, 'say "hi", ok', "Zoë", "a\nb", "x", "日本"]
    table = pa.table(
        {
            "s": pa.array(values[:rows], pa.string()),
            "n": pa.array(list(range(rows)), pa.int64()),
            "tags": pa.array(
                [["a"] if i % 2 else None for i in range(rows)], pa.list_(pa.string())
            ),
        }
    )
    dbname = postgres_server.create_database()
    raw = psycopg2.connect(
        host=postgres_server.host, port=postgres_server.port, user=postgres_server.user,
        dbname=dbname,
    )  # fmt: skip
    con = DbApiConnection(raw, "postgres")
    try:
        con.execute("create schema lake")
        loaders._load_postgres(con, "lake", "t", table)
        con.commit()
        loaded = con.query("select s, n, tags from lake.t order by n")
    finally:
        con.close()
    expected = flatten_for_load(table).to_pylist()
    assert [dict(zip(("s", "n", "tags"), row, strict=True)) for row in loaded] == expected
