"""Opaque identifiers: master ids are a prefix plus a ULID, run ids are time-sortable too."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid(timestamp_ms: int | None = None) -> str:
    """A ULID: 48 bits of milliseconds then 80 random bits, 26 Crockford base32 characters.

    Lexicographic order is creation order, which is what "the oldest id survives" relies on.
    """
    ms = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
    value = (ms << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def master_id(prefix: str, timestamp_ms: int | None = None) -> str:
    return f"{prefix}-{ulid(timestamp_ms)}"


def new_run_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{os.urandom(3).hex()}"


def master_ids(prefix: str, count: int, timestamp_ms: int | None = None) -> pa.Array:
    """`count` new master ids at once, as `master_id` makes them one by one (one timestamp,
    80 random bits each), vectorised for the many clusters of a first run."""
    head = f"{prefix}-{ulid(timestamp_ms)[:10]}".encode()  # 10 characters: the time
    random = np.frombuffer(os.urandom(10 * count), np.uint8).reshape(count, 2, 5).astype(np.uint64)
    # Each half of the 80 random bits, 40 bits as one integer, gives 8 symbols of 5 bits.
    halves = random @ (np.uint64(1) << np.arange(32, -8, -8, dtype=np.uint64))
    shifts = np.arange(35, -5, -5, dtype=np.uint64)
    symbols = ((halves[..., None] >> shifts) & np.uint64(31)).reshape(count, 16)
    alphabet = np.frombuffer(_CROCKFORD.encode(), np.uint8)
    width = len(head) + 16
    chars = np.empty((count, width), np.uint8)
    chars[:, : len(head)] = np.frombuffer(head, np.uint8)
    chars[:, len(head) :] = alphabet[symbols]
    offsets = np.arange(0, (count + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(count, pa.py_buffer(offsets), pa.py_buffer(chars))
