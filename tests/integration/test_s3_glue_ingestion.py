"""S3 landing files into an Iceberg lake on the Glue Data Catalog with an S3 warehouse, through
the real boto3 and pyiceberg GlueCatalog code paths against a moto server."""

from __future__ import annotations

import gzip
import io
import uuid

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from services.configs import write_config

from e360.config import load_config
from e360.errors import IngestError
from e360.lake import Lake
from ingestion.batch import ingest_source
from ingestion.status import source_statuses


def _parquet(rows: dict[str, list]) -> bytes:
    buffer = io.BytesIO()
    pq.write_table(pa.table(rows), buffer)
    return buffer.getvalue()


def test_s3_objects_land_once_in_glue_tables_with_comments(tmp_path, aws_env) -> None:
    aws = aws_env
    landing, lake_bucket = f"landing-{uuid.uuid4().hex[:8]}", f"lake-{uuid.uuid4().hex[:8]}"
    aws.create_bucket(landing)
    aws.create_bucket(lake_bucket)
    s3 = aws.client("s3")
    s3.put_object(Bucket=landing, Key="crm/day1.csv", Body=b"id,email\n1,a@x.com\n2,b@x.com,oops\n")
    s3.put_object(
        Bucket=landing, Key="crm/day2.csv.gz", Body=gzip.compress(b"id,email\n3,c@x.com\n")
    )
    s3.put_object(Bucket=landing, Key="crm/readme.txt", Body=b"not a landing file")
    s3.put_object(Bucket=landing, Key="other/day1.csv", Body=b"id,email\n9,z@x.com\n")
    location = {"bucket": landing, "prefix": "crm/", "endpoint_url": aws.endpoint}
    sources = {
        "crm_s3": {
            "entity": "customer",
            "format": "csv",
            "path": "*.csv*",
            "s3": location,
            "key": "id",
            "mapping": {"email": "email"},
        },
        "marked_s3": {
            "entity": "customer",
            "format": "csv",
            "path": "*",
            "s3": {**location, "prefix": "marked/"},
            "key": "id",
            "ready_marker": "_SUCCESS",
            "mapping": {"email": "email"},
        },
        "loyalty_s3": {
            "entity": "customer",
            "format": "parquet",
            "path": "*.parquet",
            "s3": {**location, "prefix": "loyalty/"},
            "key": "member_no",
            "mapping": {"email": "email"},
        },
    }
    s3.put_object(
        Bucket=landing,
        Key="loyalty/members.parquet",
        Body=_parquet({"member_no": ["M1", "M2"], "email": ["m1@x.com", None]}),
    )
    deployment = {
        "catalog": {
            "type": "glue",
            "warehouse": f"s3://{lake_bucket}/warehouse",
            "properties": aws.catalog_properties(),
        }
    }
    config = load_config(write_config(tmp_path, sources, deployment), environ={})
    lake = Lake.from_config(config)
    assert type(lake.catalog).__name__ == "GlueCatalog"

    first = ingest_source(lake, "crm_s3", config.sources["crm_s3"], config.landing_dir, "b1")
    assert (first.files_found, first.files_ingested, first.landed, first.quarantined) == (
        2,
        2,
        2,
        1,
    )
    assert first.files == [f"s3://{landing}/crm/day1.csv", f"s3://{landing}/crm/day2.csv.gz"]
    loyalty = ingest_source(
        lake, "loyalty_s3", config.sources["loyalty_s3"], config.landing_dir, "b1"
    )
    assert loyalty.landed == 2

    again = ingest_source(lake, "crm_s3", config.sources["crm_s3"], config.landing_dir, "b2")
    assert (again.files_skipped, again.files_ingested, again.landed) == (2, 0, 0)
    raw = lake.read("raw", "crm_s3__customer").sort_by("id").to_pylist()
    assert [(r["id"], r["_file"]) for r in raw] == [
        ("1", f"s3://{landing}/crm/day1.csv"),
        ("3", f"s3://{landing}/crm/day2.csv.gz"),
    ]
    assert lake.read("quarantine", "crm_s3").column("_reason").to_pylist() == [
        "row has 3 fields, the header has 2"
    ]

    # A replaced object is a new delivery (new ETag); its old version stays landed once.
    s3.put_object(Bucket=landing, Key="crm/day1.csv", Body=b"id,email\n1,a2@x.com\n")
    third = ingest_source(lake, "crm_s3", config.sources["crm_s3"], config.landing_dir, "b3")
    assert (third.files_ingested, third.files_skipped, third.landed) == (1, 1, 1)
    assert (third.new, third.changed, third.unchanged) == (0, 1, 0)  # key 1, a new e-mail
    assert lake.read("raw", "crm_s3__customer").num_rows == 3

    status = {s.source: s for s in source_statuses(config, ["crm_s3"])}["crm_s3"]
    assert (status.kind, status.landed, status.quarantined, status.lag) == ("s3", 3, 1, 0)
    assert status.last_landed == f"s3://{landing}/crm/day1.csv"

    # A source that writes _SUCCESS when a delivery is complete: nothing lands before it.
    marked = config.sources["marked_s3"]
    with pytest.raises(
        IngestError, match=f"no landing file matches '\\*' under s3://{landing}/marked/"
    ):
        ingest_source(lake, "marked_s3", marked, config.landing_dir, "b1")
    s3.put_object(Bucket=landing, Key="marked/day1.csv", Body=b"id,email\n7,g@x.com\n")
    early = ingest_source(lake, "marked_s3", marked, config.landing_dir, "b1")
    assert (early.landed, early.unsettled) == (
        0,
        [f"s3://{landing}/marked/day1.csv (waiting for its _SUCCESS marker)"],
    )
    s3.put_object(Bucket=landing, Key="marked/_SUCCESS", Body=b"")
    ready = ingest_source(lake, "marked_s3", marked, config.landing_dir, "b2")
    assert (ready.files_found, ready.landed, ready.unsettled) == (1, 1, [])

    glue = aws.client("glue")
    table = glue.get_table(DatabaseName="raw", Name="crm_s3__customer")["Table"]
    assert table["Description"] == "Raw customer records of source 'crm_s3', as received"
    assert table["Parameters"]["table_type"] == "ICEBERG"
    assert table["Parameters"]["metadata_location"].startswith(f"s3://{lake_bucket}/warehouse/")
    names = {t["Name"] for t in glue.get_tables(DatabaseName="raw")["TableList"]}
    assert {"crm_s3__customer", "loyalty_s3__customer"} <= names
    assert glue.get_table(DatabaseName="quarantine", Name="crm_s3")["Table"]["Description"]
