"""Stream ingestion: Kafka (Amazon MSK) topics -> `raw.<source>__<entity>`, exactly once.

`ingest_stream` runs one consumer for one source, either until it has caught up with the
broker (a run of the pipeline) or until it is stopped (SIGTERM/SIGINT: the batch in hand lands
first). See `landing.py` for how offsets and data commit together.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from e360.config import E360Config
from e360.lake import Lake
from ingestion.contracts import Contract, load_contract, no_contract
from ingestion.stream.consumer import (
    BatchCallback,
    StreamConsumer,
    StreamIngest,
    Until,
    batch_id_now,
)
from ingestion.stream.landing import StreamError

__all__ = ["StreamError", "StreamIngest", "ingest_stream", "source_contract"]


def source_contract(config: E360Config, name: str) -> Contract:
    path = config.contract_file(config.sources[name])
    return no_contract() if path is None else load_contract(path)


def ingest_stream(
    config: E360Config,
    name: str,
    *,
    lake: Lake | None = None,
    until: Until = "caught_up",
    batch_id: str | None = None,
    on_batch: BatchCallback | None = None,
    settings: dict[str, Any] | None = None,
    on_event: Callable[[str], None] | None = None,
) -> StreamIngest:
    source = config.sources.get(name)
    if source is None or source.format != "kafka":
        streams = sorted(n for n, s in config.sources.items() if s.format == "kafka")
        raise StreamError(f"'{name}' is not a stream source; stream sources: {streams}")
    consumer = StreamConsumer(
        lake or Lake.from_config(config),
        name,
        source,
        source_contract(config, name),
        batch_id=batch_id or batch_id_now(name),
        settings=settings,
        on_batch=on_batch,
        on_event=on_event,
    )
    with _stopping_on_signals(consumer):
        return consumer.run(until)


@contextmanager
def _stopping_on_signals(consumer: StreamConsumer) -> Iterator[None]:
    """SIGTERM (a redeploy) and SIGINT stop the consumer after it lands its current batch."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set handlers (an orchestrator's worker thread)
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in previous:
        signal.signal(sig, lambda _sig, _frame: consumer.stop())
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
