"""A stream source landing into the Glue Data Catalog (moto) with an S3 warehouse: the tables
carry their description, column comments and PII tags from the source's contract."""

from __future__ import annotations

import uuid

from services.configs import stream_source, write_config

from e360.config import load_config
from e360.lake import Lake
from ingestion.stream import ingest_stream


def test_glue_shows_stream_tables_with_comments_and_pii_tags(
    tmp_path, kafka_broker, aws_env
) -> None:
    bucket = f"lake-{uuid.uuid4().hex[:8]}"
    aws_env.create_bucket(bucket)
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, 1)
    kafka_broker.produce(
        topic,
        [
            ("O1", {"order_id": "O1", "seq": 1, "status": "PLACED", "email": "a@x.com"}),
            ("O2", b"garbage"),
        ],
    )
    deployment = {
        "catalog": {
            "type": "glue",
            "warehouse": f"s3://{bucket}/warehouse",
            "properties": aws_env.catalog_properties(),
        }
    }
    path = write_config(
        tmp_path, {"orders": stream_source(kafka_broker.bootstrap, topic)}, deployment
    )
    config = load_config(path, environ={})

    result = ingest_stream(config, "orders")

    assert (result.landed, result.quarantined) == (1, 1)
    glue = aws_env.client("glue")
    table = glue.get_table(DatabaseName="raw", Name="orders__event")["Table"]
    assert table["Description"].startswith("Raw event records of stream source 'orders'")
    assert table["Parameters"]["e360.pii.columns"] == "email"
    assert table["Parameters"]["e360.pii.email"] == "true"
    comments = {c["Name"]: c.get("Comment") for c in table["StorageDescriptor"]["Columns"]}
    assert comments["email"] == "The buyer's e-mail"
    assert comments["_offset"] == "Kafka offset within the partition"
    quarantine = glue.get_table(DatabaseName="quarantine", Name="orders")["Table"]
    assert "failed decoding" in quarantine["Description"]
    lake = Lake.from_config(config)
    assert lake.read("raw", "orders__event").column("order_id").to_pylist() == ["O1"]
