"""Kafka messages -> raw rows or quarantine rows, typed against the contract and the raw table.

Decoding is a pure function of the message bytes and the contract. Typing is checked against
the raw table's current schema: a new field widens the table (union by name), a field whose
type Iceberg cannot widen to the column's (long -> string, string -> double, ...) sends the
record to quarantine with the reason.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from ingestion.contracts import Contract, as_column_value, out_of_range, value_type, widens

log = logging.getLogger(__name__)

RAW_METADATA = [
    pa.field("_source", pa.string(), metadata={"doc": "Source name in e360.yaml"}),
    pa.field("_batch_id", pa.string(), metadata={"doc": "Micro-batch that landed the record"}),
    pa.field("_ingested_at", pa.timestamp("us"), metadata={"doc": "When it landed (UTC)"}),
    pa.field("_topic", pa.string(), metadata={"doc": "Kafka topic it was read from"}),
    pa.field("_partition", pa.int32(), metadata={"doc": "Kafka partition"}),
    pa.field("_offset", pa.int64(), metadata={"doc": "Kafka offset within the partition"}),
    pa.field("_key", pa.string(), metadata={"doc": "Kafka message key (UTF-8)"}),
    pa.field("_timestamp", pa.timestamp("us"), metadata={"doc": "Kafka message timestamp"}),
    pa.field("_payload_hash", pa.string(), metadata={"doc": "SHA-256 of the message value"}),
]
RAW_METADATA_NAMES = {f.name for f in RAW_METADATA}

QUARANTINE_STREAM_SCHEMA = pa.schema(
    [
        pa.field("_source", pa.string()),
        pa.field("_batch_id", pa.string()),
        pa.field("_ingested_at", pa.timestamp("us")),
        pa.field("_topic", pa.string()),
        pa.field("_partition", pa.int32()),
        pa.field("_offset", pa.int64()),
        pa.field("_key", pa.string()),
        pa.field("_raw", pa.string(), metadata={"doc": "The value as text (invalid UTF-8 shown)"}),
        pa.field("_raw_bytes", pa.binary(), metadata={"doc": "The value's bytes, exactly"}),
        pa.field("_reason", pa.string(), metadata={"doc": "Why it was not landed"}),
    ]
)

TopicPartition = tuple[str, int]

# A record is master data, not a blob: a message over 8 MiB is quarantined unread (Kafka's own
# default limit is 1 MB; a broker configured for more still cannot push e360 to parse more).
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
MAX_REASON_CHARS = 1000  # a contract's message can quote the whole (huge) value


@dataclass(frozen=True)
class Message:
    """The parts of a Kafka message ingestion needs (decoupled from the client's type)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp_ms: int | None

    @property
    def tp(self) -> TopicPartition:
        return (self.topic, self.partition)


@dataclass
class Decoded:
    message: Message
    values: dict[str, Any] | None = None  # column -> value, None for poison
    types: dict[str, pa.DataType] = field(default_factory=dict)
    reason: str | None = None


def decode(
    message: Message,
    contract: Contract,
    value_format: str,
    wire_format: str,
    max_bytes: int = MAX_MESSAGE_BYTES,
) -> Decoded:
    """A message's column values, or the reason it goes to quarantine; never an exception.

    The known bounds (size, depth, number ranges, Unicode) are checked explicitly with a
    reason each; anything else a payload could still provoke is caught here as a last resort
    and quarantined with the exception. Decoding is pure (no broker, no catalog), so no
    infrastructure error is hidden by the guard.
    """
    try:
        return _decode(message, contract, value_format, wire_format, max_bytes)
    except Exception as exc:
        return Decoded(message, reason=f"undecodable: {type(exc).__name__}: {exc}")


def _decode(
    message: Message, contract: Contract, value_format: str, wire_format: str, max_bytes: int
) -> Decoded:
    if message.value is None:
        return Decoded(message, reason="empty message (a tombstone): no value to land")
    if len(message.value) > max_bytes:
        return Decoded(
            message,
            reason=f"message of {len(message.value):,} bytes is over the limit of "
            f"{max_bytes:,} bytes",
        )
    if value_format == "avro":
        record, reason = contract.decode_avro(message.value, wire_format)
    else:
        record, reason = contract.decode_json(message.value)
    if record is None or reason is not None:
        return Decoded(message, reason=reason or "undecodable")
    values: dict[str, Any] = {}
    types: dict[str, pa.DataType] = {}
    folded: dict[str, str] = {}
    for name, value in record.items():
        name = str(name)
        if not name.strip():
            return Decoded(message, reason="a field has an empty name")
        if name in RAW_METADATA_NAMES:
            return Decoded(message, reason=f"field '{name}' collides with a metadata column")
        if (other := folded.setdefault(name.casefold(), name)) != name:
            # Iceberg tells them apart, SQL engines downstream (DuckDB, dbt) do not.
            return Decoded(message, reason=f"fields '{other}' and '{name}' differ only in case")
        declared = contract.columns.get(name)
        kind = declared.type if declared is not None else value_type(value)
        if isinstance(value, dict | list) and declared is None:
            kind = pa.string()
        if kind is not None:
            types[name] = kind
            values[name] = as_column_value(value, kind)
            if problem := out_of_range(values[name], kind):
                return Decoded(message, reason=f"field '{name}': {problem}")
        else:
            values[name] = None
    return Decoded(message, values=values, types=types)


@dataclass
class Shaped:
    """A micro-batch ready to commit: the raw rows' table and the quarantined messages."""

    raw: pa.Table
    schema_changes: list[str]  # new or widened columns, for the log
    poison: list[tuple[Message, str]]


def shape(
    decoded: list[Decoded],
    table_schema: pa.Schema | None,
    contract: Contract,
    source: str,
    batch_id: str,
    table_name: str,
    ingested_at: datetime | None = None,
) -> Shaped:
    """Check every good record's types against the table (widening it where Iceberg can)."""
    ingested_at = ingested_at or datetime.now(UTC).replace(tzinfo=None)
    columns: dict[str, pa.Field] = {}
    if table_schema is not None:
        columns = {
            f.name: pa.field(f.name, f.type)
            for f in table_schema
            if f.name not in RAW_METADATA_NAMES
        }
    else:
        # A new table gets the contract's columns, documented, even before they carry values.
        for name, column in contract.columns.items():
            columns[name] = _field(name, column.type, column.doc)
    changes: list[str] = []
    poison: list[tuple[Message, str]] = []
    good: list[Decoded] = []
    for record in decoded:
        if record.values is None:
            poison.append((record.message, record.reason or "undecodable"))
            continue
        problem = None
        for name, kind in record.types.items():
            known = columns.get(name)
            if known is None or widens(kind, known.type):
                continue
            if not widens(known.type, kind):
                problem = (
                    f"field '{name}' is {kind} but column {name} of {table_name} is "
                    f"{known.type}: a type change Iceberg cannot widen"
                )
                break
        if problem:
            poison.append((record.message, problem))
            continue
        for name, kind in record.types.items():
            known = columns.get(name)
            if known is None:
                declared = contract.columns.get(name)
                columns[name] = _field(name, kind, declared.doc if declared else None)
                changes.append(f"new column {name} {kind}")
            elif known.type != kind and widens(known.type, kind):
                columns[name] = known.with_type(kind)
                changes.append(f"column {name} widened {known.type} -> {kind}")
        good.append(record)
    try:
        raw = _raw_table(good, columns, source, batch_id, ingested_at)
    except (pa.ArrowException, ValueError, TypeError, OverflowError) as exc:
        # A value the checks above let through still does not convert: find the records that
        # do not, quarantine them with the error, land the rest (slow path, rare).
        log.warning("%s: a value of batch %s does not convert (%s)", source, batch_id, exc)
        kept = []
        for record in good:
            try:
                _raw_table([record], columns, source, batch_id, ingested_at)
            except (pa.ArrowException, ValueError, TypeError, OverflowError) as error:
                poison.append((record.message, f"unstorable: {type(error).__name__}: {error}"))
            else:
                kept.append(record)
        raw = _raw_table(kept, columns, source, batch_id, ingested_at)
    return Shaped(raw=raw, schema_changes=changes, poison=poison)


def arrow_schema(table: Any) -> pa.Schema:
    """An Iceberg table's schema as the arrow types e360 writes (pyiceberg reads large types)."""
    fields = []
    for f in table.schema().as_arrow():
        kind = f.type
        if pa.types.is_large_string(kind):
            kind = pa.string()
        elif pa.types.is_large_binary(kind):
            kind = pa.binary()
        fields.append(pa.field(f.name, kind))
    return pa.schema(fields)


def _field(name: str, kind: pa.DataType, doc: str | None) -> pa.Field:
    return pa.field(name, kind, metadata={"doc": doc} if doc else None)


def _raw_table(
    good: list[Decoded],
    columns: dict[str, pa.Field],
    source: str,
    batch_id: str,
    ingested_at: datetime,
) -> pa.Table:
    n = len(good)
    messages = [r.message for r in good]
    arrays = [
        pa.array([source] * n, pa.string()),
        pa.array([batch_id] * n, pa.string()),
        pa.array([ingested_at] * n, pa.timestamp("us")),
        pa.array([m.topic for m in messages], pa.string()),
        pa.array([m.partition for m in messages], pa.int32()),
        pa.array([m.offset for m in messages], pa.int64()),
        pa.array([text(m.key) for m in messages], pa.string()),
        pa.array([_timestamp(m.timestamp_ms) for m in messages], pa.timestamp("us")),
        pa.array([hashlib.sha256(m.value or b"").hexdigest() for m in messages], pa.string()),
    ]
    fields = list(columns.values())
    for f in fields:
        values = [as_column_value((r.values or {}).get(f.name), f.type) for r in good]
        arrays.append(pa.array(values, f.type))
    return pa.Table.from_arrays(arrays, schema=pa.schema([*RAW_METADATA, *fields]))


def quarantine_table(
    poison: list[tuple[Message, str]], source: str, batch_id: str, ingested_at: datetime
) -> pa.Table:
    n = len(poison)
    messages = [m for m, _ in poison]
    return pa.Table.from_arrays(
        [
            pa.array([source] * n, pa.string()),
            pa.array([batch_id] * n, pa.string()),
            pa.array([ingested_at] * n, pa.timestamp("us")),
            pa.array([m.topic for m in messages], pa.string()),
            pa.array([m.partition for m in messages], pa.int32()),
            pa.array([m.offset for m in messages], pa.int64()),
            pa.array([text(m.key) for m in messages], pa.string()),
            pa.array([text(m.value) for m in messages], pa.string()),
            pa.array([m.value for m in messages], pa.binary()),
            pa.array([_reason_text(reason) for _, reason in poison], pa.string()),
        ],
        schema=QUARANTINE_STREAM_SCHEMA,
    )


def _reason_text(reason: str) -> str:
    """A reason as storable text: bounded, and valid UTF-8 whatever the payload put in it."""
    if len(reason) > MAX_REASON_CHARS:
        reason = f"{reason[: MAX_REASON_CHARS - 20]}... ({len(reason):,} chars)"
    return reason.encode("utf-8", "backslashreplace").decode("utf-8")


def text(value: bytes | None) -> str | None:
    return None if value is None else value.decode("utf-8", errors="replace")


def _timestamp(ms: int | None) -> datetime | None:
    if ms is None or ms <= 0:
        return None
    return datetime.fromtimestamp(ms / 1000, UTC).replace(tzinfo=None)
