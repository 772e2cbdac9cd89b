"""Nothing a source sends stops a stream: the poison corpus through a real broker (tansu) into a
real Iceberg lake. Every poison message is quarantined with a reason naming its problem, every
good message lands exactly once, produced = landed + quarantined, and `e360 ingest --stream`
neither dies with --follow nor on a restart over the same offsets."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

import pytest
from poison import Poison, avro_order, avro_poison, json_good, json_poison, order
from services.configs import CONTRACTS, stream_source, write_config
from services.kafka import Broker

from e360.config import load_config
from e360.lake import Lake
from ingestion.stream import ingest_stream

PARTITIONS = 2
DEADLINE = 240.0  # seconds: generous, for a loaded 2-core machine; met in seconds when idle


def _consumer(config: Path, *extra: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "e360.cli", "ingest", "-c", str(config), "--stream", "orders"]
    return subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _counts(lake: Lake) -> tuple[int, int]:
    raw = lake.read("raw", "orders__event", columns=("_offset",))
    quarantine = lake.read("quarantine", "orders", columns=("_offset",))
    return (0 if raw is None else raw.num_rows, 0 if quarantine is None else quarantine.num_rows)


def _wait_for(lake: Lake, produced: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline and process.poll() is None:
        if sum(_counts(lake)) >= produced:
            return
        time.sleep(0.5)
    output = process.stdout.read().decode() if process.poll() is not None else ""
    raise AssertionError(
        f"{sum(_counts(lake))} of {produced} messages landed or quarantined "
        f"(consumer exit code {process.poll()}):\n{output[-3000:]}"
    )


def _wave(broker: Broker, topic: str, first_seq: int, poison: list[Poison]) -> tuple[int, int]:
    """Good orders around every poison message, spread over the partitions: (good, poison)."""
    messages: list[tuple[bytes | None, bytes | None]] = []
    seq = first_seq
    for case in poison:
        messages.append((f"O{seq:05d}".encode(), json.dumps(order(seq)).encode()))
        messages.append((case.key, case.value))
        seq += 1
    good = [(k, v) for k, v in json_good()] if first_seq == 0 else []
    messages += good
    for i, record in enumerate(messages):
        broker.produce(topic, [record], partition=i % PARTITIONS)
    return seq - first_seq + len(good), len(poison)


def test_every_poison_message_is_quarantined_and_a_followed_stream_goes_on(
    tmp_path, kafka_broker
) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, PARTITIONS)
    source = stream_source(kafka_broker.bootstrap, topic, batch_size=50, max_latency_seconds=0.3)
    config = write_config(tmp_path, {"orders": source})
    lake = Lake.from_config(load_config(config, environ={}))
    corpus = json_poison()

    good, bad = _wave(kafka_broker, topic, 0, corpus)
    follow = _consumer(config, "--follow")
    try:
        _wait_for(lake, good + bad, follow)
        # Alive on poison, and it goes on: a second wave reaches the same, running consumer.
        more_good, more_bad = _wave(kafka_broker, topic, 100, corpus[:8])
        good, bad = good + more_good, bad + more_bad
        _wait_for(lake, good + bad, follow)
        assert follow.poll() is None, "the consumer exited on poison"
    finally:
        follow.send_signal(signal.SIGTERM)
        output = follow.communicate(timeout=120)[0].decode()
    assert follow.returncode == 0, output
    assert "Traceback" not in output, output

    # A restart over the same offsets neither dies nor lands anything twice; poison that comes
    # after it lands next to the good records of its batch.
    more_good, more_bad = _wave(kafka_broker, topic, 200, corpus[-8:])
    good, bad = good + more_good, bad + more_bad
    restart = _consumer(config)
    output = restart.communicate(timeout=DEADLINE)[0].decode()
    assert restart.returncode == 0, output
    assert f"{more_good + more_bad} records in, {more_good} landed, {more_bad} quarantined" in (
        output
    ), output

    raw = lake.read("raw", "orders__event", columns=("seq", "_key")).to_pylist()
    seqs = Counter(r["seq"] for r in raw)
    assert [s for s, n in seqs.items() if n > 1] == [], "duplicated"
    expected = {*range(len(corpus)), *range(100, 108), *range(200, 200 + len(corpus[-8:]))}
    assert set(seqs) == expected | {1001, 1002, 1003, 1004, 1005, 1006}
    quarantine = lake.read("quarantine", "orders", columns=("_key", "_reason")).to_pylist()
    assert len(raw) == good and len(quarantine) == bad  # produced = landed + quarantined
    reasons: dict[str | None, list[str]] = {}
    for row in quarantine:
        reasons.setdefault(row["_key"], []).append(row["_reason"])
    for i, case in enumerate(corpus):
        times = 1 + (i < 8) + (i >= len(corpus) - 8)
        key = None if case.key is None else case.key.decode()
        assert len(reasons.get(key, [])) == times, (case.name, reasons.get(key))
        assert all(case.reason in r for r in reasons[key]), (case.name, reasons[key])


def test_quarantined_messages_keep_their_bytes_exactly(tmp_path, kafka_broker) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, 1)
    small = [c for c in json_poison() if c.value is None or len(c.value) < 1_000_000]
    kafka_broker.produce(topic, [(c.key, c.value) for c in small])
    config = load_config(
        write_config(tmp_path, {"orders": stream_source(kafka_broker.bootstrap, topic)}),
        environ={},
    )

    result = ingest_stream(config, "orders")

    assert (result.records_in, result.landed, result.quarantined) == (len(small), 0, len(small))
    rows = Lake.from_config(config).read("quarantine", "orders").sort_by("_offset").to_pylist()
    assert [r["_raw_bytes"] for r in rows] == [c.value for c in small]
    assert all(r["_reason"] for r in rows)


@pytest.mark.parametrize("wire_format", ["plain", "confluent"])
def test_avro_poison_is_quarantined_and_the_good_records_land(
    tmp_path, kafka_broker, wire_format
) -> None:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, 1)
    prefix = b"\x00\x00\x00\x00\x07" if wire_format == "confluent" else b""
    corpus = avro_poison()
    messages = []
    for i, case in enumerate(corpus):
        messages.append((f"A{i:05d}".encode(), prefix + avro_order(i)))
        value = None if case.value is None else prefix + case.value
        messages.append((case.key, value))
    kafka_broker.produce(topic, messages)
    source = stream_source(
        kafka_broker.bootstrap, topic, value_format="avro", avro_wire_format=wire_format
    )
    source["contract"] = str(CONTRACTS / "web_orders.avsc")
    config = load_config(write_config(tmp_path, {"orders": source}), environ={})

    result = ingest_stream(config, "orders")

    assert (result.records_in, result.landed, result.quarantined) == (
        2 * len(corpus),
        len(corpus),
        len(corpus),
    )
    lake = Lake.from_config(config)
    assert sorted(lake.read("raw", "orders__event").column("seq").to_pylist()) == list(
        range(len(corpus))
    )
    reasons = {r["_key"]: r["_reason"] for r in lake.read("quarantine", "orders").to_pylist()}
    for case in corpus:
        assert case.reason in reasons[case.key.decode()], (case.name, reasons[case.key.decode()])
