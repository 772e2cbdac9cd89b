"""The consume loop of one stream source: poll, decode, land micro-batches, exactly once.

Positions come from the raw table's offsets ledger, never from the consumer group: on every
assignment each partition is seeked to the ledger's offset (or the beginning when the table
has never landed it). The group's committed offsets are written after each landed batch only
as a hint for monitoring tools.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException
from confluent_kafka import TopicPartition as KafkaPartition

from e360.config import SourceConfig
from e360.lake import Lake
from ingestion.batch import SourceIngest
from ingestion.contracts import Contract
from ingestion.stream import ledger
from ingestion.stream.kafka_settings import consumer_settings
from ingestion.stream.landing import Landed, StreamError, Target, land_batch
from ingestion.stream.records import Decoded, Message, TopicPartition, decode

log = logging.getLogger(__name__)
Until = Literal["caught_up", "stopped"]
BatchCallback = Callable[["StreamIngest", Landed], None]
ASSIGNMENT_TIMEOUT = 60.0  # seconds to wait for the group to hand out partitions
POLL_SLICE_SECONDS = 0.5


@dataclass
class StreamIngest:
    """What one run of a stream consumer did; `records_in == landed + quarantined`."""

    source: str
    entity: str
    records_in: int = 0
    landed: int = 0
    quarantined: int = 0
    batches: int = 0
    commit_retries: int = 0
    offsets: dict[str, int] = field(default_factory=dict)  # "topic[partition]" -> next offset

    # The batch ingest's fields, so a stream reports like a file source.
    @property
    def rows_in(self) -> int:
        return self.records_in

    def as_dict(self) -> dict[str, object]:
        return asdict(self)

    def as_source_ingest(self) -> SourceIngest:
        """The same counts in the shape of a file source's ingest (run reports, checks)."""
        return SourceIngest(
            source=self.source,
            entity=self.entity,
            rows_in=self.records_in,
            landed=self.landed,
            quarantined=self.quarantined,
            files=[f"{tp}@{offset}" for tp, offset in sorted(self.offsets.items())],
        )


class StreamConsumer:
    """One consumer process (of possibly several in one group) of one stream source."""

    def __init__(
        self,
        lake: Lake,
        name: str,
        source: SourceConfig,
        contract: Contract,
        *,
        batch_id: str,
        settings: dict[str, Any] | None = None,
        on_batch: BatchCallback | None = None,
        on_event: Callable[[str], None] | None = None,
    ) -> None:
        if source.stream is None:
            raise StreamError(f"source '{name}' has no stream section")
        self.name = name
        self.stream = source.stream
        self.target = Target(lake, name, source.entity, contract)
        self.batch_id = batch_id
        self.settings = settings or consumer_settings(name, source.stream)
        self.on_batch = on_batch
        self.on_event = on_event or (lambda message: log.info("%s", message))
        self.stop_event = threading.Event()
        self.result = StreamIngest(source=name, entity=source.entity)
        # Partition -> the ledger offset our next batch starts from (None: never landed).
        self._expected: dict[TopicPartition, int | None] = {}
        self._next: dict[TopicPartition, int] = {}  # after the buffered messages
        self._buffer: list[Message] = []
        self._first_at: float | None = None
        self._error: BaseException | None = None
        self._batches = 0
        self._consumer: Consumer | None = None
        self._landing: _Landing | None = None  # the batch a worker thread is committing
        self._in_callback = False

    def stop(self) -> None:
        """Finish the current micro-batch, land it, and return (safe from a signal handler)."""
        self.stop_event.set()

    def run(self, until: Until = "caught_up") -> StreamIngest:
        consumer = Consumer(self.settings)
        self._consumer = consumer
        try:
            if until == "caught_up":
                # A one-shot run lands every partition up to now, so it takes them all itself:
                # as a group member it could be handed only some (another member, even a dead
                # one not yet expired, holding the rest) and call the source caught up. Other
                # writers cannot double anything: the ledger's compare-and-set sees them.
                self._on_assign(consumer, self._all_partitions(consumer))
                self._raise_callback_error()
            else:
                consumer.subscribe(
                    list(self.stream.topics),
                    on_assign=self._on_assign,
                    on_revoke=self._on_revoke,
                    on_lost=self._on_lost,
                )
            self._loop(consumer, until)
            self._flush()  # SIGTERM or caught up: the batch in hand lands before we leave
        finally:
            consumer.close()
            self._consumer = None
        return self.result

    def _all_partitions(self, consumer: Consumer) -> list[KafkaPartition]:
        partitions = []
        for topic in self.stream.topics:
            try:
                metadata = consumer.list_topics(topic, timeout=30).topics.get(topic)
            except KafkaException as exc:
                raise StreamError(f"{self.name}: cannot read topic {topic}: {exc}") from None
            if metadata is None or metadata.error is not None or not metadata.partitions:
                why = metadata.error.str() if metadata and metadata.error else "no partitions"
                raise StreamError(f"{self.name}: topic {topic} is not available: {why}")
            partitions += [KafkaPartition(topic, p) for p in sorted(metadata.partitions)]
        return partitions

    def _loop(self, consumer: Consumer, until: Until) -> None:
        started = time.monotonic()
        latency = self.stream.max_latency_seconds
        while not self.stop_event.is_set():
            room = self.stream.batch_size - len(self._buffer)
            # Poll in short slices, never for the whole latency: a blocking consume does not
            # return on SIGTERM, and a stop or a caught-up run must be noticed promptly. The
            # latency deadline of a held batch is checked after every slice.
            deadline = (
                latency if self._first_at is None else self._first_at + latency - time.monotonic()
            )
            wait = min(deadline, POLL_SLICE_SECONDS)
            messages = consumer.consume(num_messages=max(1, min(room, 1000)), timeout=max(wait, 0))
            self._raise_callback_error()
            for message in messages:
                self._take(message)
            full = len(self._buffer) >= self.stream.batch_size
            late = self._first_at is not None and time.monotonic() - self._first_at >= latency
            if full or late:
                self._flush()
            if until == "caught_up" and not messages:
                # Read up to the end (held records count): stop now, run() lands the batch in
                # hand; waiting out the latency would only delay a one-shot run.
                if self._expected and self._caught_up(consumer):
                    return
                if not self._expected and time.monotonic() - started > ASSIGNMENT_TIMEOUT:
                    raise StreamError(
                        f"{self.name}: no partitions of {list(self.stream.topics)} were assigned "
                        f"within {ASSIGNMENT_TIMEOUT:.0f}s (group {self.settings['group.id']})"
                    )

    def _take(self, message: Any) -> None:
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                return
            if error.fatal() or error.code() in (
                KafkaError.UNKNOWN_TOPIC_OR_PART,
                KafkaError.TOPIC_AUTHORIZATION_FAILED,
                KafkaError.GROUP_AUTHORIZATION_FAILED,
            ):
                raise StreamError(f"{self.name}: Kafka: {error.str()}")
            log.warning("%s: Kafka: %s", self.name, error.str())
            return
        tp = (message.topic(), message.partition())
        if tp not in self._expected:
            return  # a late message of a partition revoked meanwhile: its new owner reads it
        if message.offset() < self._next.get(tp, self._expected[tp] or 0):
            return  # delivered again (a fetch from before a seek): held or landed already
        kind, ms = message.timestamp()
        self._buffer.append(
            Message(
                topic=tp[0],
                partition=tp[1],
                offset=message.offset(),
                key=message.key(),
                value=message.value(),
                timestamp_ms=ms if kind != 0 else None,
            )
        )
        self._next[tp] = message.offset() + 1
        if self._first_at is None:
            self._first_at = time.monotonic()

    def _flush(self) -> None:
        self._settle()
        messages, self._buffer, self._first_at = self._buffer, [], None
        if not messages:
            return
        contract = self.target.contract
        decoded: list[Decoded] = [
            decode(m, contract, self.stream.value_format, self.stream.avro_wire_format)
            for m in messages
        ]
        self._batches += 1
        batch_id = f"{self.batch_id}-{self._batches:06d}"
        expected = {tp: self._expected.get(tp) for tp in {m.tp for m in messages}}
        landing = _Landing(lambda: land_batch(self.target, decoded, expected, batch_id))
        consumer = self._consumer
        if consumer is None or self._in_callback:
            # librdkafka forbids polling from inside a rebalance callback: land in line.
            landing.run()
            self._apply(landing.outcome())
            return
        self._landing = landing
        self._land_polling(consumer, landing)
        self._settle()

    def _land_polling(self, consumer: Consumer, landing: _Landing) -> None:
        """Land on a worker thread while this one keeps polling, partitions paused.

        A commit can take longer than max.poll.interval.ms (a loaded machine, a slow catalog,
        conflicts with the group's other members): without polls the member would be taken
        for dead, leave the group, drop its batch in hand and stall every member in a
        rebalance. Polling paused partitions fetches nothing new; what was fetched already
        is buffered for the next batch, and rebalance callbacks settle this landing first.
        """
        paused = consumer.assignment()
        consumer.pause(paused)
        worker = threading.Thread(target=landing.run, name="e360-landing", daemon=True)
        landing.thread = worker
        worker.start()
        try:
            while self._landing is landing and worker.is_alive():
                worker.join(POLL_SLICE_SECONDS)
                if self._landing is landing and worker.is_alive():
                    for message in consumer.consume(num_messages=1000, timeout=0):
                        self._take(message)
                    self._raise_callback_error()
        finally:
            worker.join()  # an error above: still never leave a commit half-watched
            try:
                # What was paused, even if revoked meanwhile: a pause could outlive a
                # revocation and hold the partition when it comes back.
                consumer.resume(paused + consumer.assignment())
            except KafkaException as exc:  # closing: nothing left to resume
                log.debug("%s: resume: %s", self.name, exc)

    def _settle(self) -> None:
        """Wait for the batch being landed (if any) and account for it."""
        landing, self._landing = self._landing, None
        if landing is not None:
            if landing.thread is not None:
                landing.thread.join()
            self._apply(landing.outcome())

    def _apply(self, landed: Landed) -> None:
        for tp, offset in landed.stale.items():
            self._reseek(tp, offset)
        for tp, end in landed.ends.items():
            self._expected[tp] = end
        result = self.result
        result.records_in += landed.landed + landed.quarantined
        result.landed += landed.landed
        result.quarantined += landed.quarantined
        result.commit_retries += landed.retries
        result.batches += 1
        for (topic, partition), end in landed.ends.items():
            result.offsets[f"{topic}[{partition}]"] = end
        if landed.schema_changes:
            log.info("%s: raw table schema: %s", self.name, "; ".join(landed.schema_changes))
        self._commit_hint(landed.ends)
        if self.on_batch is not None:
            self.on_batch(result, landed)

    def _reseek(self, tp: TopicPartition, offset: int | None) -> None:
        """Another consumer landed this partition meanwhile: continue from the ledger."""
        self._expected[tp] = offset
        self._next.pop(tp, None)
        # Read while the stale batch landed: the same records again, from the ledger on.
        self._buffer = [m for m in self._buffer if m.tp != tp]
        consumer = self._consumer
        if consumer is not None:
            start = OFFSET_BEGINNING if offset is None else offset
            try:
                consumer.seek(KafkaPartition(tp[0], tp[1], start))
            except KafkaException as exc:  # not (or no longer) assigned: nothing to re-read
                log.info("%s: not re-reading %s: %s", self.name, tp, exc)

    def _commit_hint(self, ends: dict[TopicPartition, int]) -> None:
        if not ends or self._consumer is None:
            return
        offsets = [KafkaPartition(t, p, o) for (t, p), o in ends.items()]
        try:
            self._consumer.commit(offsets=offsets, asynchronous=True)
        except KafkaException as exc:  # only a hint: the table holds the truth
            log.debug("%s: group offset commit failed: %s", self.name, exc)

    # -- rebalancing ----------------------------------------------------------------------

    def _on_assign(self, consumer: Consumer, partitions: list[KafkaPartition]) -> None:
        with self._callback():
            self._assign(consumer, partitions)

    def _assign(self, consumer: Consumer, partitions: list[KafkaPartition]) -> None:
        try:
            self._settle()
            offsets = ledger.offsets_of(self.target.lake.table("raw", self.target.raw_name))
            for p in partitions:
                tp = (p.topic, p.partition)
                landed = offsets.get(tp)
                if landed is not None:
                    self._check_range(consumer, p, landed)
                self._expected[tp] = landed
                p.offset = OFFSET_BEGINNING if landed is None else landed
            consumer.assign(partitions)
            consumer.resume(partitions)  # never paused by a landing from before a rebalance
            where = ", ".join(f"{p.topic}[{p.partition}]@{p.offset}" for p in partitions)
            self.on_event(f"{self.name}: assigned {where or 'nothing'}")
        except BaseException as exc:  # raised again from the loop: a callback cannot raise
            self._error = exc
            consumer.assign([])

    def _check_range(self, consumer: Consumer, p: KafkaPartition, landed: int) -> None:
        low, high = consumer.get_watermark_offsets(
            KafkaPartition(p.topic, p.partition), timeout=10, cached=False
        )
        where = f"{p.topic}[{p.partition}]"
        table = f"raw.{self.target.raw_name}"
        if landed > high:
            raise StreamError(
                f"{self.name}: {table} has landed {where} up to offset {landed}, but the "
                f"broker's log for it ends at {high}: was the topic deleted and recreated? "
                "Stopping rather than skipping or re-reading records; to start over, move "
                "the raw table aside."
            )
        if landed < low:
            raise StreamError(
                f"{self.name}: {table} has landed {where} up to offset {landed}, but the broker "
                f"keeps it only from offset {low}: records {landed}..{low - 1} expired before "
                "they were landed. Stopping rather than skipping them silently."
            )

    def _on_revoke(self, consumer: Consumer, partitions: list[KafkaPartition]) -> None:
        with self._callback():
            try:
                self._flush()  # land what we hold before the partitions move to another one
            except BaseException as exc:
                self._error = exc
            finally:
                for p in partitions:
                    self._expected.pop((p.topic, p.partition), None)
                    self._next.pop((p.topic, p.partition), None)

    def _on_lost(self, consumer: Consumer, partitions: list[KafkaPartition]) -> None:
        # Lost, not revoked: another consumer may own them already; what we hold is stale.
        # A batch being landed still commits or fails on the ledger's compare-and-set.
        with self._callback():
            try:
                self._settle()
            except BaseException as exc:
                self._error = exc
        lost = {(p.topic, p.partition) for p in partitions}
        self._buffer = [m for m in self._buffer if m.tp not in lost]
        for tp in lost:
            self._expected.pop(tp, None)
            self._next.pop(tp, None)

    @contextmanager
    def _callback(self) -> Iterator[None]:
        self._in_callback = True
        try:
            yield
        finally:
            self._in_callback = False

    def _raise_callback_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def _caught_up(self, consumer: Consumer) -> bool:
        for tp, expected in list(self._expected.items()):
            position = self._next.get(tp, expected or 0)
            _low, high = consumer.get_watermark_offsets(
                KafkaPartition(*tp), timeout=10, cached=False
            )
            if position < high:
                return False
        return True


class _Landing:
    """One micro-batch's commit, run on a worker thread (or in line), and its outcome."""

    def __init__(self, work: Callable[[], Landed]) -> None:
        self.work = work
        self.thread: threading.Thread | None = None
        self._landed: Landed | None = None
        self._error: BaseException | None = None

    def run(self) -> None:
        try:
            self._landed = self.work()
        except BaseException as exc:  # raised again on the consumer's thread
            self._error = exc

    def outcome(self) -> Landed:
        if self._error is not None:
            raise self._error
        assert self._landed is not None, "a landing's outcome before it ran"
        return self._landed


def batch_id_now(prefix: str = "stream") -> str:
    # The process id tells apart consumers of one group started in the same second.
    return f"{prefix}-{datetime.now(UTC):%Y%m%dT%H%M%S}-{os.getpid()}"
