"""Exactly once through crashes, concurrent consumers and SIGTERM: `e360 ingest --stream` as a
real process against a real broker (tansu) and a real Iceberg lake."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from services.configs import stream_source, write_config
from services.kafka import Broker

from e360.config import load_config
from e360.lake import Lake

PARTITIONS = 3
# Generous bounds for a loaded 2-core machine (met in seconds when idle): conditions, not sleeps.
ASSIGNED_WITHIN = 240.0
LANDED_WITHIN = 300.0


def _setup(tmp_path: Path, broker: Broker, n: int, poison_every: int = 0, **stream) -> Path:
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    broker.create_topic(topic, PARTITIONS)
    records = []
    for seq in range(n):
        if poison_every and seq % poison_every == poison_every - 1:
            records.append((f"O{seq:05d}", {"order_id": f"O{seq:05d}", "seq": seq}))  # no status
        else:
            records.append(
                (f"O{seq:05d}", {"order_id": f"O{seq:05d}", "seq": seq, "status": "PLACED"})
            )
    broker.produce(topic, records)
    return write_config(tmp_path, {"orders": stream_source(broker.bootstrap, topic, **stream)})


@pytest.fixture
def spawn() -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts consumer processes; any still running when the test ends (a failure) is killed."""
    started: list[subprocess.Popen] = []

    def start(config: Path, *extra: str) -> subprocess.Popen:
        process = _consumer(config, *extra)
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


def _consumer(config: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "e360.cli",
            "ingest",
            "-c",
            str(config),
            "--stream",
            "orders",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for_assignment(process: subprocess.Popen, timeout: float = 60.0) -> None:
    """Wait (bounded) for the consumer to print its partition assignment."""
    assert process.stdout is not None
    stdout = process.stdout
    assigned = threading.Event()

    def read() -> None:
        for line in stdout:
            if b": assigned " in line:
                assigned.set()
                return  # the rest of the output stays in the pipe for communicate()

    threading.Thread(target=read, daemon=True).start()
    if not assigned.wait(timeout):
        raise AssertionError(f"the consumer was not assigned partitions within {timeout:.0f}s")


def _landed(config: Path) -> tuple[list[int], list[int]]:
    lake = Lake.from_config(load_config(config, environ={}))
    raw = lake.read("raw", "orders__event", columns=("seq",))
    quarantine = lake.read("quarantine", "orders", columns=("_raw",))
    seqs = [] if raw is None else raw.column("seq").to_pylist()
    bad = (
        []
        if quarantine is None
        else [int(r.split('"seq": ')[1].rstrip("}")) for r in quarantine.column("_raw").to_pylist()]
    )
    return seqs, bad


def _assert_exactly_once(seqs: list[int], bad: list[int], n: int, poison_every: int) -> None:
    duplicates = sorted(seq for seq, count in Counter(seqs + bad).items() if count > 1)
    assert duplicates == [], f"{len(duplicates)} duplicated, first: {duplicates[:10]}"
    missing = sorted(set(range(n)) - set(seqs + bad))
    assert missing == [], f"{len(missing)} missing (a gap), first: {missing[:10]}"
    assert sorted(seqs + bad) == list(range(n))
    assert sorted(bad) == [
        s for s in range(n) if poison_every and s % poison_every == poison_every - 1
    ]


def test_kill_9_at_random_moments_loses_and_duplicates_nothing(
    tmp_path, kafka_broker, spawn
) -> None:
    n, poison_every = 1200, 97
    config = _setup(tmp_path, kafka_broker, n, poison_every, batch_size=40, max_latency_seconds=0.2)
    rng = random.Random(7)
    kills = 0
    progress = []
    while kills < 10:
        process = spawn(config, "--follow")
        time.sleep(rng.uniform(2.5, 5.0))  # start-up and group join take ~2-3 s
        process.send_signal(signal.SIGKILL)
        process.wait()
        kills += 1
        seqs, bad = _landed(config)
        progress.append(len(seqs) + len(bad))
        # Never a duplicate, at any moment.
        assert len(set(seqs)) == len(seqs), f"duplicates after kill {kills}; progress {progress}"
    final = spawn(config)  # until caught up
    output, _ = final.communicate(timeout=180)
    assert final.returncode == 0, f"progress {progress}:\n{output.decode()}"
    seqs, bad = _landed(config)
    _assert_exactly_once(seqs, bad, n, poison_every)
    assert progress[0] < n, f"the first run landed everything before a kill: {progress}"


def test_two_consumers_in_one_group_ingest_one_topic_exactly_once(
    tmp_path, kafka_broker, spawn
) -> None:
    n = 900
    topic = f"orders-{uuid.uuid4().hex[:8]}"
    kafka_broker.create_topic(topic, 4)
    source = stream_source(kafka_broker.bootstrap, topic, batch_size=25, max_latency_seconds=0.2)
    config = write_config(tmp_path, {"orders": source})
    consumers = [spawn(config, "--follow"), spawn(config, "--follow")]
    try:
        # Both are members before any record arrives (on a loaded machine start-up and the
        # group join take a minute), and records arrive over a few seconds, so both hold
        # partitions while they do.
        for process in consumers:
            _wait_for_assignment(process, timeout=ASSIGNED_WITHIN)
        for wave in range(9):
            time.sleep(0.6)
            kafka_broker.produce(
                topic,
                [
                    (f"O{s:05d}", {"order_id": f"O{s:05d}", "seq": s, "status": "PLACED"})
                    for s in range(wave * 100, wave * 100 + 100)
                ],
            )
        deadline = time.monotonic() + LANDED_WITHIN
        while time.monotonic() < deadline and len(_landed(config)[0]) < n:
            if any(p.poll() is not None for p in consumers):
                break  # a consumer died: fail now, with its output
            time.sleep(0.5)
    finally:
        for process in consumers:
            process.send_signal(signal.SIGTERM)
        outputs = [p.communicate(timeout=60)[0].decode() for p in consumers]
    assert [p.returncode for p in consumers] == [0, 0], "\n---\n".join(outputs)
    lake = Lake.from_config(load_config(config, environ={}))
    rows = lake.read("raw", "orders__event").to_pylist()
    counts = Counter(r["seq"] for r in rows)
    dups = sorted(
        (r["seq"], r["_partition"], r["_offset"], r["_batch_id"])
        for r in rows
        if counts[r["seq"]] > 1
    )
    assert not dups, (dups[:12], outputs)
    seqs, bad = _landed(config)
    _assert_exactly_once(seqs, bad, n, 0)
    batches = lake.read("raw", "orders__event", columns=("_batch_id",)).column("_batch_id")
    writers = {b.rsplit("-", 1)[0] for b in batches.to_pylist()}
    assert len(writers) == 2  # both consumers landed records, concurrently committing


def test_sigterm_lands_the_batch_in_hand_before_exiting(tmp_path, kafka_broker, spawn) -> None:
    # A 10-minute latency and a large batch: only SIGTERM handling can land them in time.
    config = _setup(tmp_path, kafka_broker, 60, batch_size=10_000, max_latency_seconds=600)
    process = spawn(config, "--follow")
    _wait_for_assignment(process)
    time.sleep(2)  # fetching 60 records takes milliseconds
    assert _landed(config) == ([], [])
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output.decode()
    assert "60 records in, 60 landed, 0 quarantined in 1 batches" in output.decode()
    seqs, bad = _landed(config)
    _assert_exactly_once(seqs, bad, 60, 0)


def test_a_one_shot_run_lands_every_partition_whatever_the_group_holds(
    tmp_path, kafka_broker, spawn
) -> None:
    """Members killed with -9 stay in the group until the broker expires them; a one-shot run
    started meanwhile lands every partition. (The crash test once ended with a one-shot run
    handed one partition of three and calling the source caught up; one-shot runs now assign
    all partitions themselves. This test does not force that rebalance timing: tansu expires
    these members first. It checks the outcome, and that a one-shot run needs no group.)"""
    config = _setup(tmp_path, kafka_broker, 90, batch_size=10_000, max_latency_seconds=600)
    members = [spawn(config, "--follow") for _ in range(3)]
    for member in members:
        _wait_for_assignment(member)
    for member in members:
        member.kill()  # no LeaveGroup: the group still counts them
        member.wait()
    once = spawn(config)  # until caught up, well within the members' session timeout
    output, _ = once.communicate(timeout=120)
    assert once.returncode == 0, output.decode()
    seqs, bad = _landed(config)
    _assert_exactly_once(seqs, bad, 90, 0)


def test_a_commit_slower_than_the_poll_interval_keeps_the_member_in_its_group(
    tmp_path, kafka_broker, monkeypatch, caplog
) -> None:
    """A loaded machine or a slow catalog can make one commit outlast max.poll.interval.ms.
    The consumer keeps polling while it lands, so the group never takes it for dead: no
    leave, no rebalance, no batch in hand dropped (this once stalled two consumers of one
    group for minutes, each rejoin on tansu costing ~20 s under load)."""
    from ingestion.stream import consumer as consumer_module
    from ingestion.stream import source_contract
    from ingestion.stream.consumer import StreamConsumer

    real_land = consumer_module.land_batch
    slow = threading.Event()

    def slow_land(*args, **kwargs):  # type: ignore[no-untyped-def]
        if not slow.is_set():
            slow.set()
            time.sleep(9)  # past the 6 s poll interval below
        return real_land(*args, **kwargs)

    monkeypatch.setattr(consumer_module, "land_batch", slow_land)
    client = {"session.timeout.ms": 6000, "max.poll.interval.ms": 6000}
    path = _setup(tmp_path, kafka_broker, 60, batch_size=20, max_latency_seconds=0.2, client=client)
    config = load_config(path, environ={})
    events: list[str] = []
    consumer = StreamConsumer(
        Lake.from_config(config),
        "orders",
        config.sources["orders"],
        source_contract(config, "orders"),
        batch_id="slow",
        on_event=events.append,
    )
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(consumer.run("stopped")), daemon=True)
    thread.start()
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline and consumer.result.landed < 60 and thread.is_alive():
        time.sleep(0.2)
    consumer.stop()
    thread.join(timeout=60)
    assert slow.is_set() and outcome, f"the consumer did not finish: {events}"
    assert consumer.result.landed == 60
    assert [e for e in events if ": assigned " in e] == events and len(events) == 1, events
    assert "maximum poll interval" not in caplog.text
    seqs, bad = _landed(path)
    _assert_exactly_once(seqs, bad, 60, 0)
