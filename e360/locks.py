"""The project lock: one writer per lake at a time (ingest, match, publish, run, train).

A file lock (`flock`) on `<lake>/.e360.lock`. The kernel releases it when its holder ends,
however it ends (kill -9 included), so a lock is never left held by a dead process; the
file's content - pid, host, command, start time of the holder - names who holds it in the
message a waiting process prints, and tells the next holder that the previous one died
without releasing it (a stale lock, taken over with a warning).

Production (Glue catalog, S3 warehouse) has no shared lake folder: the lock file lives in
the project root of the runner instead (`deployment.lock.path` moves it). That serialises
the runs of one runner - the deployment runs one pipeline task at a time - but not runs on
two machines; give them a shared file system path or run them from one scheduler.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from e360.errors import E360Error

if TYPE_CHECKING:
    from e360.config import E360Config

LOCK_FILE = ".e360.lock"
POLL_SECONDS = 0.2


class LockTimeout(E360Error):
    """Another process held the project lock for longer than this one would wait."""


@dataclass(frozen=True)
class Holder:
    pid: int
    host: str
    command: str
    started_at: str

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host} ({self.command}, since {self.started_at})"

    def is_dead(self) -> bool:
        """Whether this holder is a process of this host that no longer exists."""
        return self.host == socket.gethostname() and not _alive(self.pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    return True


def _this_holder(command: str) -> Holder:
    return Holder(
        pid=os.getpid(),
        host=socket.gethostname(),
        command=command,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )


def read_holder(path: Path) -> Holder | None:
    """Who holds (or last held) the lock file, if it says."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Holder(**{k: data[k] for k in ("pid", "host", "command", "started_at")})
    except (OSError, ValueError, KeyError, TypeError):
        return None


# Locks this process holds, by path, with a depth: a run inside a run (the runner, then the
# run's resource) takes the lock once.
_HELD: dict[Path, int] = {}
_HELD_GUARD = threading.Lock()


@contextmanager
def project_lock(
    path: Path,
    *,
    command: str | None = None,
    wait_seconds: float = 600.0,
    on_wait: Callable[[str], Any] | None = None,
    on_stale: Callable[[str], Any] | None = None,
) -> Iterator[None]:
    """Hold the lock file at `path` for the block; wait up to `wait_seconds` for it.

    `on_wait` is told once who holds it while this process waits; `on_stale` when the previous
    holder died without releasing it. A lock still held after the wait raises `LockTimeout`
    naming the holder.
    """
    path = path.resolve()
    with _HELD_GUARD:
        if path in _HELD:
            _HELD[path] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _HELD_GUARD:
                _HELD[path] -= 1
        return
    command = command or " ".join(["e360", *sys.argv[1:]])
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        _acquire(fd, path, wait_seconds, on_wait)
        previous = read_holder(path)
        stale = previous is not None and previous.pid != os.getpid() and previous.is_dead()
        if stale and on_stale is not None and previous is not None:
            # Left by a process that died holding the lock (the kernel released it): its
            # work may be half done; the lake's commits are atomic, so nothing is torn.
            on_stale(f"took over a stale project lock {path} from {previous.describe()}")
        _write_holder(fd, _this_holder(command))
        with _HELD_GUARD:
            _HELD[path] = 0
        try:
            yield
        finally:
            with _HELD_GUARD:
                del _HELD[path]
            os.ftruncate(fd, 0)  # released: no holder to name
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(
    fd: int, path: Path, wait_seconds: float, on_wait: Callable[[str], Any] | None
) -> None:
    deadline = time.monotonic() + wait_seconds
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            pass
        holder = read_holder(path)
        who = holder.describe() if holder else "another process"
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"the project lock {path} is held by {who}; gave up after waiting "
                f"{wait_seconds:g}s (deployment.lock.wait_seconds)"
            )
        if not told and on_wait is not None:
            on_wait(f"waiting for the project lock {path}, held by {who}")
            told = True
        time.sleep(POLL_SECONDS)


def _write_holder(fd: int, holder: Holder) -> None:
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(holder.__dict__).encode())
    os.fsync(fd)


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@contextmanager
def holding_project_lock(config: E360Config) -> Iterator[None]:
    """The project's lock for the block, as configured (`deployment.lock`); waiting and stale
    locks are told on stderr."""
    with project_lock(
        config.lock_file,
        wait_seconds=config.deployment.lock.wait_seconds,
        on_wait=_say,
        on_stale=lambda message: _say(f"warning: {message}"),
    ):
        yield
