"""Opaque identifiers: master ids are a prefix plus a ULID, run ids are time-sortable too."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

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
