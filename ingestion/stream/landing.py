"""One micro-batch -> one quarantine commit (if any poison) and one raw commit, exactly once.

The raw table's offsets ledger is the truth: a micro-batch lands only if, at the moment of its
commit, the ledger still shows for each of its partitions the offset this consumer started the
batch from (compare and set, enforced by Iceberg's optimistic concurrency: a concurrent commit
fails ours, we reload and check again). Another consumer that meanwhile landed one of the
partitions (a rebalance) makes those records stale: they are dropped and the partition is
re-read from the ledger.

Poison goes to quarantine first, in its own commit that carries the quarantine ledger. If the
process dies before the raw commit, the next attempt re-reads the same offsets; a message the
quarantine already holds (found by topic/partition/offset, only in the window between the raw
and the quarantine ledgers) is not quarantined again.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pyarrow as pa
from pyiceberg.exceptions import CommitFailedException
from pyiceberg.expressions import And, EqualTo, GreaterThanOrEqual, LessThan, Reference
from pyiceberg.expressions.literals import literal
from pyiceberg.table import Table

from e360.errors import IngestError
from e360.lake import NO_COMMIT_RETRY, Lake
from e360.zones import quarantine_table_name, raw_table_name
from ingestion.contracts import Contract
from ingestion.stream import ledger
from ingestion.stream.records import (
    QUARANTINE_STREAM_SCHEMA,
    Decoded,
    Message,
    TopicPartition,
    arrow_schema,
    quarantine_table,
    shape,
)

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 50


class StreamError(IngestError):
    """A stream cannot be ingested (broker, offsets or catalog state); the message says why."""


@dataclass(frozen=True)
class Target:
    """Where one stream source lands."""

    lake: Lake
    source: str
    entity: str
    contract: Contract

    @property
    def raw_name(self) -> str:
        return raw_table_name(self.source, self.entity)

    def raw_properties(self) -> dict[str, str]:
        pii = self.contract.pii_columns
        return {
            **NO_COMMIT_RETRY,
            "e360.source": self.source,
            "e360.entity": self.entity,
            "e360.contract": self.contract.name,
            "e360.pii.columns": ",".join(pii),
            **{f"e360.pii.{name}": "true" for name in pii},
        }

    def raw_description(self) -> str:
        what = self.contract.description or f"{self.entity} records"
        return f"Raw {self.entity} records of stream source '{self.source}', as received: {what}"


@dataclass
class Landed:
    landed: int = 0
    quarantined: int = 0
    retries: int = 0
    ends: dict[TopicPartition, int] = field(default_factory=dict)  # new ledger positions
    stale: dict[TopicPartition, int | None] = field(default_factory=dict)  # re-read from here
    schema_changes: list[str] = field(default_factory=list)


def land_batch(
    target: Target,
    decoded: list[Decoded],
    expected: dict[TopicPartition, int | None],
    batch_id: str,
) -> Landed:
    """Commit one micro-batch; `expected` is the ledger offset each partition started from."""
    result = Landed()
    commit_id = uuid.uuid4().hex
    for attempt in range(MAX_ATTEMPTS):
        raw = target.lake.table("raw", target.raw_name)
        if attempt and ledger.has_commit(raw, commit_id):
            return result  # the previous attempt did land; its response was lost
        offsets = ledger.offsets_of(raw)
        stale = {tp: offsets.get(tp) for tp in _ends(decoded) if offsets.get(tp) != expected[tp]}
        if stale:
            log.warning("%s: partitions landed by another consumer: %s", target.source, stale)
            result.stale.update(stale)
            decoded = [d for d in decoded if d.message.tp not in stale]
        ends = _ends(decoded)
        if not ends:
            return result
        ingested_at = datetime.now(UTC).replace(tzinfo=None)
        shaped = shape(
            decoded,
            None if raw is None else arrow_schema(raw),
            target.contract,
            target.source,
            batch_id,
            f"raw.{target.raw_name}",
            ingested_at,
        )
        _quarantine(target, shaped.poison, expected, ends, batch_id, ingested_at)
        summary = {
            ledger.OFFSETS_PROPERTY: ledger.encode({**offsets, **ends}),
            ledger.COMMIT_PROPERTY: commit_id,
            ledger.LANDED_PROPERTY: str(shaped.raw.num_rows),
            ledger.QUARANTINED_PROPERTY: str(len(shaped.poison)),
            "e360.batch_id": batch_id,
        }
        try:
            _commit_raw(target, raw, shaped.raw, summary)
        except CommitFailedException as exc:
            result.retries += 1
            log.info("%s: raw commit conflict (%s); reloading", target.source, exc)
            _backoff(attempt)
            continue
        result.landed = shaped.raw.num_rows
        result.quarantined = len(shaped.poison)
        result.ends = ends
        result.schema_changes = shaped.schema_changes
        return result
    raise StreamError(
        f"{target.source}: could not commit to raw.{target.raw_name} after {MAX_ATTEMPTS} "
        "attempts (commit conflicts); is something else writing the table?"
    )


def _ends(decoded: list[Decoded]) -> dict[TopicPartition, int]:
    ends: dict[TopicPartition, int] = {}
    for d in decoded:
        ends[d.message.tp] = max(ends.get(d.message.tp, 0), d.message.offset + 1)
    return ends


def _commit_raw(
    target: Target, table: Table | None, data: pa.Table, summary: dict[str, str]
) -> None:
    """Commit on top of exactly the table state the ledger was read from.

    Never a fresher reload: a commit based on a newer snapshot than the one `summary`'s
    offsets came from would pass Iceberg's check and put back another consumer's offsets.
    """
    if table is None:
        table = target.lake.create_table(
            "raw",
            target.raw_name,
            data.schema,
            description=target.raw_description(),
            properties=target.raw_properties(),
        )
        if table.current_snapshot() is not None:
            raise CommitFailedException("the table was created and written meanwhile")
    with table.transaction() as tx:
        # Schema evolution, documentation and data in one commit: all or nothing.
        known = {f.name: f.field_type for f in table.schema().fields}
        if any(name not in known for name in data.schema.names) or _widened(table, data):
            with tx.update_schema() as update:
                update.union_by_name(data.schema)
        wanted = target.raw_properties()
        if any(table.properties.get(k) != v for k, v in wanted.items()):
            tx.set_properties(wanted)
        tx.append(data, snapshot_properties=summary)


def _widened(table: Table, data: pa.Table) -> bool:
    current = arrow_schema(table)
    return any(
        name in current.names and current.field(name).type != data.schema.field(name).type
        for name in data.schema.names
    )


def _quarantine(
    target: Target,
    poison: list[tuple[Message, str]],
    expected: dict[TopicPartition, int | None],
    ends: dict[TopicPartition, int],
    batch_id: str,
    ingested_at: datetime,
) -> None:
    if not poison:
        return
    lake = target.lake
    for attempt in range(MAX_ATTEMPTS):
        table = lake.table("quarantine", quarantine_table_name(target.source))
        offsets = ledger.offsets_of(table)
        done = _already_quarantined(table, offsets, expected, ends)
        todo = [(m, reason) for m, reason in poison if (m.tp, m.offset) not in done]
        if not todo:
            return
        summary = {
            ledger.OFFSETS_PROPERTY: ledger.encode(
                {**offsets, **{tp: max(offsets.get(tp, 0), end) for tp, end in ends.items()}}
            ),
            ledger.QUARANTINED_PROPERTY: str(len(todo)),
            "e360.batch_id": batch_id,
        }
        try:
            if table is None:
                table = lake.create_table(
                    "quarantine",
                    quarantine_table_name(target.source),
                    QUARANTINE_STREAM_SCHEMA,
                    description=f"Messages of stream source '{target.source}' that failed "
                    "decoding, their contract or the raw table's types, with the reason",
                    properties={**NO_COMMIT_RETRY, "e360.source": target.source},
                )
            table.append(
                quarantine_table(todo, target.source, batch_id, ingested_at),
                snapshot_properties=summary,
            )
            return
        except CommitFailedException:
            _backoff(attempt)
    raise StreamError(
        f"{target.source}: could not commit to quarantine.{target.source} after {MAX_ATTEMPTS} "
        "attempts (commit conflicts)"
    )


def _already_quarantined(
    table: Table | None,
    offsets: dict[TopicPartition, int],
    expected: dict[TopicPartition, int | None],
    ends: dict[TopicPartition, int],
) -> set[tuple[TopicPartition, int]]:
    """Messages of this batch's range the quarantine holds already (after a crash)."""
    done: set[tuple[TopicPartition, int]] = set()
    if table is None:
        return done
    for tp, end in ends.items():
        start = expected.get(tp) or 0
        upto = min(offsets.get(tp, 0), end)
        if upto <= start:
            continue  # the quarantine ledger is behind this batch: nothing of it is there
        topic, partition = tp
        rows = table.scan(
            row_filter=And(
                EqualTo(term=Reference("_topic"), value=literal(topic)),
                EqualTo(term=Reference("_partition"), value=literal(partition)),
                GreaterThanOrEqual(term=Reference("_offset"), value=literal(start)),
                LessThan(term=Reference("_offset"), value=literal(upto)),
            ),
            selected_fields=("_offset",),
        ).to_arrow()
        done.update((tp, offset) for offset in rows.column("_offset").to_pylist())
    return done


def _backoff(attempt: int) -> None:
    time.sleep(min(0.05 * 2**attempt, 2.0) * random.uniform(0.5, 1.5))
