"""Which landing files are ready to land: found under a source's path or S3 prefix, settled
(size and modification time unchanged for `settle_seconds`) or marked ready (`ready_marker`),
and identified by content (SHA-256) or, in S3, by ETag."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePath, PurePosixPath

from e360.config import SourceConfig
from ingestion import s3


@dataclass(frozen=True)
class Delivery:
    """One landing file: its name in the lake, its identity before download, how to read it."""

    name: str
    identity: str | None  # an S3 object's bucket/key/ETag; local files are known by their hash
    open: Callable[[], AbstractContextManager[Path]]
    path: Path | None = None  # a local file, watched until it has settled
    marked: bool = True  # the source's ready marker is there (or the source has none)


def _opened_in_place(path: Path) -> AbstractContextManager[Path]:
    """A local landing file is read where it lies (an S3 object is fetched to a temp file)."""
    return nullcontext(path)


def deliveries(source: SourceConfig, landing_dir: Path) -> list[Delivery]:
    """The source's landing files: under the landing folder, or under its S3 prefix."""
    pattern = source.path or "*"
    if source.s3 is not None:
        client = s3.s3_client(source.s3)
        objects = s3.list_objects(client, source.s3, pattern)
        keys = s3.list_keys(client, source.s3) if source.ready_marker else set()
        return [
            Delivery(
                obj.uri,
                obj.identity,
                partial(s3.fetched, client, obj),
                marked=_marked(PurePosixPath(obj.key), source.ready_marker, keys.__contains__),
            )
            for obj in objects
            if not _is_marker(PurePosixPath(obj.key), source.ready_marker)
        ]
    return [
        Delivery(
            path.relative_to(landing_dir).as_posix(),
            None,
            partial(_opened_in_place, path),
            path=path,
            marked=_marked(path, source.ready_marker, partial(_marks, path)),
        )
        for path in sorted(landing_dir.glob(pattern))
        if path.is_file() and not _is_marker(path, source.ready_marker)
    ]


def _marker_path(path: PurePath, marker: str) -> PurePath:
    """Where the marker of a landing file is: `_SUCCESS` in its folder, or `{name}.done`."""
    return path.with_name(marker.replace("{name}", path.name))


def _marked(path: PurePath, marker: str | None, exists: Callable[[str], bool]) -> bool:
    if marker is None:
        return True
    return exists(str(_marker_path(path, marker)))


def _marks(path: Path, marker: str) -> bool:
    """A local marker is there and not older than the file (a later rewrite needs a new one)."""
    try:
        return Path(marker).stat().st_mtime >= path.stat().st_mtime
    except FileNotFoundError:
        return False


def _is_marker(path: PurePath, marker: str | None) -> bool:
    """A marker file is no data: `_SUCCESS` itself, or `x.csv.done` for `{name}.done`."""
    if marker is None:
        return False
    if "{name}" not in marker:
        return path.name == marker
    prefix, _, suffix = marker.partition("{name}")
    inner = path.name.removeprefix(prefix).removesuffix(suffix)
    return inner != path.name and path.name == prefix + inner + suffix


# Files younger than this many settle seconds are watched within the run; a longer settle age
# (a slow upload) leaves them for a later run instead of holding this one up.
MAX_WATCH_SECONDS = 5.0


_wait = time.sleep  # the observation's pause (a fault test writes during it)


def settled(found: list[Delivery], source: SourceConfig) -> tuple[list[Delivery], list[str]]:
    """The deliveries ready to land, and the names of those left for the next run (why).

    A local file is ready once its size and mtime have not changed for `settle_seconds`
    and the source's ready marker (if any) is there; S3 objects appear whole on upload.
    """
    waiting = [
        f"{d.name} (waiting for its {source.ready_marker} marker)" for d in found if not d.marked
    ]
    candidates = [d for d in found if d.marked]
    first = {d.name: _stat(d.path) for d in candidates if d.path is not None}
    now = time.time()
    young = {name for name, (_size, mtime) in first.items() if now - mtime < source.settle_seconds}
    if young and source.settle_seconds <= MAX_WATCH_SECONDS:
        youngest = max(first[name][1] for name in young)
        # Bounded by the settle age itself, whatever a skewed clock says about mtimes.
        _wait(min(max(youngest + source.settle_seconds - time.time(), 0.0), source.settle_seconds))
        moved = {d.name for d in candidates if d.name in young and _stat(d.path) != first[d.name]}
        young = moved
    waiting += [f"{name} (not yet settled)" for name in sorted(young)]
    return [d for d in candidates if d.name not in young], waiting


def _stat(path: Path | None) -> tuple[int, float]:
    assert path is not None
    try:
        info = path.stat()
    except FileNotFoundError:
        return -1, time.time()  # gone (moved away mid-run): not ready
    return info.st_size, info.st_mtime


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
