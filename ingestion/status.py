"""`e360 ingest status`: per source, how far landing has got and what is still waiting.

Streams: the offsets ledger of the raw table against the broker's high watermarks (lag =
records on the broker not landed yet). Files: the last landed file and the landing files (or
S3 objects) not landed yet. Counts are the tables' own (Iceberg snapshot summaries).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from e360.config import E360Config, SourceConfig
from e360.errors import IngestError
from e360.lake import Lake, Zone
from e360.zones import quarantine_table_name, raw_table_name
from ingestion.batch import (
    FILE_HASH_PROPERTY,
    FILE_IDENTITY_PROPERTY,
    FILE_NAME_PROPERTY,
)
from ingestion.deliveries import deliveries, file_sha256
from ingestion.stream import ledger
from ingestion.stream.kafka_settings import client_settings


@dataclass
class SourceStatus:
    source: str
    kind: str  # kafka, files, s3
    landed: int = 0
    quarantined: int = 0
    last_landed: str | None = None  # "topic[p]@offset, ..." or the last file
    last_landed_at: str | None = None
    lag: int | None = None  # records (streams) or files (batches) not landed yet
    partitions: dict[str, dict[str, int | None]] = field(default_factory=dict)
    note: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def source_statuses(config: E360Config, only: Sequence[str] | None = None) -> list[SourceStatus]:
    unknown = sorted(set(only or ()) - set(config.sources))
    if unknown:
        raise IngestError(f"unknown source(s) {unknown}; configured: {sorted(config.sources)}")
    lake = Lake.from_config(config)
    return [
        source_status(config, lake, name, source)
        for name, source in config.sources.items()
        if not only or name in only
    ]


def source_status(config: E360Config, lake: Lake, name: str, source: SourceConfig) -> SourceStatus:
    raw = lake.table("raw", raw_table_name(name, source))
    quarantine = lake.table("quarantine", quarantine_table_name(name))
    kind = "kafka" if source.stream else ("s3" if source.s3 else "files")
    status = SourceStatus(
        source=name, kind=kind, landed=_total(raw), quarantined=_total(quarantine)
    )
    snapshot = None if raw is None else raw.current_snapshot()
    if snapshot is not None:
        status.last_landed_at = datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC).isoformat(
            timespec="seconds"
        )
    if source.stream is not None:
        _stream_status(name, source, raw, status)
    else:
        _file_status(config, lake, name, source, status)
    return status


def _total(table: Any) -> int:
    snapshot = None if table is None else table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return 0
    return int(snapshot.summary.additional_properties.get("total-records", "0"))


def _stream_status(name: str, source: SourceConfig, raw: Any, status: SourceStatus) -> None:
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    assert source.stream is not None
    offsets = ledger.offsets_of(raw)
    status.last_landed = ", ".join(f"{t}[{p}]@{o}" for (t, p), o in sorted(offsets.items()))
    for (topic, partition), offset in sorted(offsets.items()):
        status.partitions[f"{topic}[{partition}]"] = {"landed": offset, "high": None, "lag": None}
    consumer = Consumer({**client_settings(name, source.stream), "socket.timeout.ms": 5000})
    try:
        lag = 0
        for topic in source.stream.topics:
            metadata = consumer.list_topics(topic, timeout=10).topics.get(topic)
            if metadata is None or metadata.error is not None:
                raise KafkaException(metadata.error if metadata else f"no topic {topic}")
            for partition in sorted(metadata.partitions):
                _low, high = consumer.get_watermark_offsets(
                    TopicPartition(topic, partition), timeout=10, cached=False
                )
                landed = offsets.get((topic, partition), 0)
                behind = max(high - landed, 0)
                status.partitions[f"{topic}[{partition}]"] = {
                    "landed": offsets.get((topic, partition)),
                    "high": high,
                    "lag": behind,
                }
                lag += behind
        status.lag = lag
    except KafkaException as exc:
        status.note = f"broker not reachable for lag: {exc}"
    finally:
        consumer.close()


def _file_status(
    config: E360Config, lake: Lake, name: str, source: SourceConfig, status: SourceStatus
) -> None:
    seen: set[str] = set()
    last = None
    tables: tuple[tuple[Zone, str], ...] = (
        ("raw", raw_table_name(name, source)),
        ("quarantine", quarantine_table_name(name)),
    )
    for zone, table in tables:
        for summary in lake.snapshot_summaries(zone, table):
            seen.update(
                summary[k] for k in (FILE_HASH_PROPERTY, FILE_IDENTITY_PROPERTY) if k in summary
            )
            if zone == "raw" and FILE_NAME_PROPERTY in summary:
                last = summary[FILE_NAME_PROPERTY]
    status.last_landed = last
    try:
        waiting = [d for d in deliveries(source, config.landing_dir) if not _landed(d, seen)]
    except IngestError as exc:
        status.note = str(exc)
        return
    status.lag = len(waiting)


def _landed(delivery: Any, seen: set[str]) -> bool:
    if delivery.identity is not None:
        return delivery.identity in seen
    with delivery.open() as path:
        return file_sha256(path) in seen


def print_status(console: Console, statuses: list[SourceStatus], *, as_json: bool) -> None:
    if as_json:
        console.print_json(json.dumps([s.as_dict() for s in statuses]))
        return
    table = RichTable(title="Ingestion status")
    for column in ("source", "kind", "landed", "quarantined", "lag", "last landed", "at"):
        table.add_column(
            column, justify="right" if column in ("landed", "quarantined", "lag") else "left"
        )
    for s in statuses:
        lag = "?" if s.lag is None else f"{s.lag:,}"
        unit = " records" if s.kind == "kafka" else " files"
        table.add_row(
            s.source,
            s.kind,
            f"{s.landed:,}",
            f"{s.quarantined:,}",
            lag + (unit if s.lag is not None else ""),
            s.last_landed or "-",
            s.last_landed_at or "-",
        )
    console.print(table)
    for s in statuses:
        if s.note:
            console.print(f"{s.source}: {s.note}", highlight=False)
