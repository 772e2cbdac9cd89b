"""Stream ingestion through a real Kafka-protocol broker (tansu) into a real Iceberg lake."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import fastavro
import pytest
from services.configs import CONTRACTS, stream_source, write_config
from services.kafka import Broker

from e360.config import load_config
from e360.lake import Lake
from ingestion.status import source_statuses
from ingestion.stream import StreamError, ingest_stream
from ingestion.stream.ledger import offsets_of


def _topic(broker: Broker, partitions: int = 2) -> str:
    name = f"orders-{uuid.uuid4().hex[:8]}"
    broker.create_topic(name, partitions)
    return name


def _order(seq: int, **extra: object) -> dict[str, object]:
    return {"order_id": f"O{seq:05d}", "seq": seq, "status": "PLACED", "amount": 10.5, **extra}


def _config(tmp_path: Path, broker: Broker, topic: str, **stream: object):
    path = write_config(tmp_path, {"orders": stream_source(broker.bootstrap, topic, **stream)})
    return load_config(path, environ={})


def test_records_land_with_offsets_and_poison_goes_to_quarantine(tmp_path, kafka_broker) -> None:
    topic = _topic(kafka_broker)
    good = [(f"O{i:05d}", _order(i, email=f"u{i}@x.com")) for i in range(20)]
    poison = [
        ("bad1", b"{not json"),
        ("bad2", {"order_id": "O9", "seq": "nine", "status": "PLACED"}),
        ("bad3", b"[1, 2]"),
        ("bad4", None),  # a tombstone
        ("bad5", {"order_id": "O8", "seq": 8, "status": "LOST"}),
    ]
    kafka_broker.produce(topic, good[:10] + poison + good[10:], partition=0)
    kafka_broker.produce(topic, [("late", _order(99))], partition=1)
    config = _config(tmp_path, kafka_broker, topic)

    result = ingest_stream(config, "orders")

    assert (result.records_in, result.landed, result.quarantined) == (26, 21, 5)
    lake = Lake.from_config(config)
    raw = lake.read("raw", "orders__event").sort_by(
        [("_partition", "ascending"), ("_offset", "ascending")]
    )
    rows = raw.to_pylist()
    assert [r["seq"] for r in rows] == [*range(20), 99]
    assert [(r["_topic"], r["_partition"], r["_offset"]) for r in rows[:11]] == [
        (topic, 0, offset) for offset in [*range(10), 15]
    ]
    assert rows[0]["_key"] == "O00000" and len(rows[0]["_payload_hash"]) == 64
    assert raw.schema.field("seq").type == "int64" and raw.schema.field("amount").type == "double"

    quarantine = lake.read("quarantine", "orders").sort_by("_offset").to_pylist()
    assert [q["_offset"] for q in quarantine] == [10, 11, 12, 13, 14]
    reasons = [q["_reason"] for q in quarantine]
    assert reasons[0].startswith("invalid JSON")
    assert "$.seq" in reasons[1] and "'nine' is not of type 'integer'" in reasons[1]
    assert reasons[2] == "expected a JSON object, got an array"
    assert "tombstone" in reasons[3]
    assert "$.status" in reasons[4] and "'LOST' is not one of" in reasons[4]
    assert quarantine[0]["_raw_bytes"] == b"{not json" and quarantine[0]["_key"] == "bad1"

    table = lake.table("raw", "orders__event")
    assert offsets_of(table) == {(topic, 0): 25, (topic, 1): 1}
    assert table.properties["e360.pii.columns"] == "email"
    assert "web shop" in table.properties["comment"]
    docs = {f.name: f.doc for f in table.schema().fields}
    assert docs["order_id"] == "The shop's order number" and docs["_offset"]

    again = ingest_stream(config, "orders")
    assert (again.records_in, again.landed, again.quarantined) == (0, 0, 0)
    assert lake.read("raw", "orders__event").num_rows == 21

    status = {s.source: s for s in source_statuses(config, ["orders"])}["orders"]
    assert (status.landed, status.quarantined, status.lag) == (21, 5, 0)
    kafka_broker.produce(topic, [("O7", _order(100))], partition=1)
    status = source_statuses(config, ["orders"])[0]
    assert status.lag == 1 and status.partitions[f"{topic}[1]"] == {
        "landed": 1,
        "high": 2,
        "lag": 1,
    }


def test_a_new_field_widens_the_table_and_a_type_change_is_quarantined(tmp_path, kafka_broker):
    topic = _topic(kafka_broker, 1)
    config = _config(tmp_path, kafka_broker, topic)
    kafka_broker.produce(topic, [("a", _order(1, gift_wrap=True, points=5))])
    ingest_stream(config, "orders")
    kafka_broker.produce(
        topic,
        [
            ("b", _order(2, coupon="SPRING")),  # a new optional field
            ("c", _order(3, points="five")),  # undeclared field, long before: not widenable
            ("d", _order(4, points=7)),
        ],
    )
    result = ingest_stream(config, "orders")
    assert (result.landed, result.quarantined) == (2, 1)
    lake = Lake.from_config(config)
    raw = lake.read("raw", "orders__event").sort_by("_offset")
    assert raw.column("coupon").to_pylist() == [None, "SPRING", None]
    assert raw.column("points").to_pylist() == [5, None, 7]
    assert raw.column("gift_wrap").to_pylist() == [True, None, None]
    (reject,) = lake.read("quarantine", "orders").to_pylist()
    assert reject["_offset"] == 2
    assert reject["_reason"] == (
        "field 'points' is string but column points of raw.orders__event is int64: "
        "a type change Iceberg cannot widen"
    )


def test_avro_values_are_decoded_with_the_contract_schema(tmp_path, kafka_broker) -> None:
    topic = _topic(kafka_broker, 1)
    contract = CONTRACTS / "web_orders.avsc"
    schema = fastavro.parse_schema(json.loads(contract.read_text()))

    def avro(record: dict) -> bytes:
        import io

        buffer = io.BytesIO()
        fastavro.schemaless_writer(buffer, schema, record)
        return buffer.getvalue()

    order = {"order_id": "A1", "seq": 1, "status": "PLACED", "email": "a@x.com", "amount": 2.5,
             "quantity": 3}  # fmt: skip
    kafka_broker.produce(topic, [("A1", avro(order)), ("A2", avro(order)[:-3]), ("A3", b"\x00")])
    source = stream_source(kafka_broker.bootstrap, topic, value_format="avro")
    source["contract"] = str(contract)
    config = load_config(write_config(tmp_path, {"orders": source}), environ={})

    result = ingest_stream(config, "orders")

    assert (result.landed, result.quarantined) == (1, 2)
    lake = Lake.from_config(config)
    (row,) = lake.read("raw", "orders__event").to_pylist()
    assert (row["order_id"], row["quantity"], row["amount"], row["status"]) == (
        "A1",
        3,
        2.5,
        "PLACED",
    )
    reasons = sorted(q["_reason"] for q in lake.read("quarantine", "orders").to_pylist())
    assert all(r.startswith("undecodable Avro for schema web_orders.avsc") for r in reasons)
    table = lake.table("raw", "orders__event")
    assert table.properties["e360.pii.columns"] == "email"
    assert {f.name: str(f.field_type) for f in table.schema().fields}["quantity"] == "int"


def test_offsets_beyond_the_brokers_range_stop_with_a_clear_error(tmp_path, kafka_broker) -> None:
    topic = _topic(kafka_broker, 1)
    config = _config(tmp_path, kafka_broker, topic)
    kafka_broker.produce(topic, [(f"k{i}", _order(i)) for i in range(5)])
    assert ingest_stream(config, "orders").landed == 5
    kafka_broker.delete_topic(topic)
    kafka_broker.create_topic(topic, 1)  # recreated: its log starts again at 0
    kafka_broker.produce(topic, [("k9", _order(9))])

    with pytest.raises(StreamError) as error:
        ingest_stream(config, "orders")

    message = str(error.value)
    assert f"raw.orders__event has landed {topic}[0] up to offset 5" in message
    assert "ends at 1" in message and "recreated" in message
    assert Lake.from_config(config).read("raw", "orders__event").num_rows == 5


def test_a_source_that_is_not_a_stream_is_refused(tmp_path, kafka_broker) -> None:
    config = _config(tmp_path, kafka_broker, "unused")
    with pytest.raises(
        StreamError, match="'crm' is not a stream source; stream sources: \\['orders'\\]"
    ):
        ingest_stream(config, "crm")


def test_consumers_starting_together_on_a_new_lake_all_open_it(tmp_path, kafka_broker) -> None:
    """Consumers of one group start at once on a never-used embedded lake: each opens it."""
    import subprocess
    import sys
    import time

    path = write_config(tmp_path, {"orders": stream_source(kafka_broker.bootstrap, "unused")})
    start_at = time.time() + 4  # after every interpreter has imported e360
    script = (
        "import sys, time\n"
        "from e360.config import load_config\n"
        "from e360.lake import Lake\n"
        "config = load_config(sys.argv[1], environ={})\n"
        "time.sleep(max(0.0, float(sys.argv[2]) - time.time()))\n"
        "Lake.from_config(config)\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(path), str(start_at)],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=120)[0].decode() for p in processes]
    assert [p.returncode for p in processes] == [0] * 6, "\n---\n".join(outputs)
