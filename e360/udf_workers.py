"""Worker processes for DuckDB's Python UDFs, so per-value Python runs on every core.

DuckDB calls a Python UDF with batches of 2,048 rows, from one thread per row group it scans
(122,880 rows), and the interpreter runs one call at a time: standardising phone numbers in
Python used one core whatever the engine's thread count. Offloaded, each batch is cut in one
slice per idle worker, the slices run in the workers at once, and the calling thread waits
with the GIL released (so calls from DuckDB's other threads send their slices meanwhile).

A worker is a fresh interpreter started with this one's `sys.path`, importing only the
modules it is told to preload, fed pickled (function, arrays) over its own pipes. Not
`multiprocessing`: its start methods either fork this process, DuckDB's threads alive (a
worker could inherit a lock no thread will release), or run the main script again in every
worker, so an unguarded script would repeat its own work there.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import itertools
import json
import os
import pickle
import queue
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import IO, Any

import pyarrow as pa

from e360.errors import E360Error

ArrowFunction = Callable[..., pa.Array]

# A batch is cut in slices of at least this many rows; a smaller batch runs in the calling
# process: pickling it both ways and waking a worker cost more than its Python.
MIN_SLICE_ROWS = 512
# Rows run in the calling process before the workers start: starting them (an interpreter
# and its imports each) costs about as much as this many rows take, so small data (a test,
# a demo) never pays for workers it would barely use.
WARM_UP_ROWS = 100_000

_BOOT = (
    "import json, sys; sys.path[:0] = json.loads(sys.argv[1]); "
    "from e360.udf_workers import serve; serve(int(sys.argv[2]), int(sys.argv[3]), "
    "json.loads(sys.argv[4]))"
)


class UdfWorkerError(E360Error):
    """A UDF failed in a worker, or the worker itself is gone."""


class UdfWorkers:
    """`count` worker processes, started together once `warm_up_rows` ran here.

    `preload`: modules each worker imports before its first batch (the UDFs' own modules);
    a worker imports a function's module on first use anyway."""

    def __init__(
        self,
        count: int,
        preload: Sequence[str] = (),
        min_rows: int = MIN_SLICE_ROWS,
        warm_up_rows: int = WARM_UP_ROWS,
    ) -> None:
        if count < 1:
            raise ValueError(f"UdfWorkers needs at least one worker, not {count}")
        self.count = count
        self.preload = tuple(preload)
        self.min_rows = min_rows
        self.warm_up_rows = warm_up_rows
        self._inline_rows = 0
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return bool(self._workers)

    def offloading(self, function: ArrowFunction, arity: int) -> ArrowFunction:
        """`function` (picklable: defined at module level) run in the workers, in slices of
        at least `min_rows`; DuckDB reads the UDF's `arity` from the returned signature."""

        def call(*arrays: pa.Array) -> pa.Array:
            rows = len(arrays[0]) if arrays else 0
            if rows < self.min_rows or self._warming_up(rows):
                return function(*arrays)
            return self.run(function, arrays)

        call.__name__ = call.__qualname__ = _name(function)
        return with_arity(call, arity)

    def run(self, function: ArrowFunction, arrays: Sequence[pa.Array]) -> pa.Array:
        """`function(*arrays)`, its rows cut among the idle workers (at least one)."""
        self._start()
        taken = [self._idle.get()]  # waits while other threads' slices run
        rows = len(arrays[0])
        while len(taken) < min(self.count, rows // self.min_rows):
            try:
                taken.append(self._idle.get_nowait())
            except queue.Empty:
                break
        bounds = [rows * i // len(taken) for i in range(len(taken) + 1)]
        sent: list[_Worker] = []
        try:
            for worker, (lo, hi) in zip(taken, itertools.pairwise(bounds), strict=True):
                worker.send(function, [a.slice(lo, hi - lo) for a in arrays])
                sent.append(worker)
        finally:
            # Every reply is read, failed or not, so none is left for the worker's next batch.
            replies = [worker.receive(function) for worker in sent]
            for worker in taken:
                self._idle.put(worker)
        failed = next((r for r in replies if isinstance(r, UdfWorkerError)), None)
        if failed is not None:
            raise failed
        results = [r for r in replies if not isinstance(r, UdfWorkerError)]
        return results[0] if len(results) == 1 else pa.concat_arrays(results)

    def _warming_up(self, rows: int) -> bool:
        with self._lock:
            if self._workers or self._inline_rows >= self.warm_up_rows:
                return False
            self._inline_rows += rows
            return True

    def _start(self) -> None:
        with self._lock:
            if not self._workers:
                # Started together: each imports its modules while the others do.
                self._workers = [_Worker(self.preload) for _ in range(self.count)]
                for worker in self._workers:
                    self._idle.put(worker)

    def close(self) -> None:
        """Stop the workers (they exit when their task pipe closes)."""
        with self._lock:
            for worker in self._workers:
                worker.close()
            self._workers = []
            self._idle = queue.SimpleQueue()


def with_arity(function: ArrowFunction, arity: int) -> ArrowFunction:
    """`function` as seen by DuckDB, which counts a UDF's parameters from its signature."""
    parameter = inspect.Parameter.POSITIONAL_ONLY
    function.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(f"a{i}", parameter) for i in range(arity)]
    )
    return function


class _Worker:
    """One worker process and its two pipes (its stdout and stderr stay this process's)."""

    def __init__(self, preload: Sequence[str]) -> None:
        task_read, task_write = os.pipe()
        result_read, result_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _BOOT, json.dumps(sys.path), str(task_read),
             str(result_write), json.dumps(list(preload))],
            pass_fds=(task_read, result_write),
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(task_read)
        os.close(result_write)
        self.tasks = os.fdopen(task_write, "wb")
        self.results = os.fdopen(result_read, "rb")

    def send(self, function: ArrowFunction, arrays: Sequence[pa.Array]) -> None:
        try:
            _write(self.tasks, (function, list(arrays)))
        except BrokenPipeError:
            raise self._gone(function) from None

    def receive(self, function: ArrowFunction) -> pa.Array | UdfWorkerError:
        """The slice's result, or the error to raise once every slice has replied."""
        reply = _read(self.results)
        if reply is None:
            return self._gone(function)
        ok, value = reply
        if not ok:
            return UdfWorkerError(f"{_name(function)} failed in a UDF worker:\n{value}")
        result: pa.Array = value
        return result

    def _gone(self, function: ArrowFunction) -> UdfWorkerError:
        code = self.process.wait()
        return UdfWorkerError(
            f"the UDF worker running {_name(function)} exited (code {code}; out of memory?): "
            "set deployment.engine.udf_workers: 0 to run UDFs in the engine's process"
        )

    def close(self) -> None:
        with contextlib.suppress(OSError):  # a worker already gone leaves a broken pipe
            self.tasks.close()
        self.results.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(task_fd: int, result_fd: int, preload: Sequence[str]) -> None:
    """A worker's loop: run each (function, arrays) read from `task_fd`, reply on
    `result_fd` with (True, result) or (False, the traceback); return when the pipe closes."""
    for module in preload:
        importlib.import_module(module)
    with os.fdopen(task_fd, "rb") as tasks, os.fdopen(result_fd, "wb") as results:
        while (task := _read(tasks)) is not None:
            function, arrays = task
            try:
                reply: tuple[bool, Any] = (True, function(*arrays))
            except Exception as error:  # the caller re-raises it, with this traceback
                reply = (False, "".join(traceback.format_exception(error)))
            _write(results, reply)


def _write(stream: IO[bytes], value: Any) -> None:
    payload = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(len(payload).to_bytes(8, "little"))
    stream.write(payload)
    stream.flush()


def _read(stream: IO[bytes]) -> Any:
    header = stream.read(8)
    if len(header) < 8:
        return None
    return pickle.loads(stream.read(int.from_bytes(header, "little")))


def _name(function: ArrowFunction) -> str:
    return getattr(function, "__name__", None) or type(function).__name__
