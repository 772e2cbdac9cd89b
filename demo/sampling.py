"""Seeded sampling shared by every generator: weighted picks, instants in the demo's fixed
window, keyboard typos and unique keys. Everything takes the caller's `random.Random`, so one
seed always gives the same output.
"""

from __future__ import annotations

import random
import re
from bisect import bisect
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from unidecode import unidecode

# A fixed window keeps output independent of the day the generator runs.
START = datetime(2018, 1, 1)
END = datetime(2025, 6, 30, 23, 59, 59)


def pick(rng: random.Random, items: tuple[Any, ...], cum: tuple[float, ...]) -> Any:
    return items[bisect(cum, rng.random() * cum[-1])]


def weighted(pairs: tuple[tuple[Any, float], ...]) -> tuple[tuple[Any, ...], tuple[float, ...]]:
    return tuple(p[0] for p in pairs), tuple(accumulate(p[1] for p in pairs))


def random_time(rng: random.Random, lo: datetime = START, hi: datetime = END) -> datetime:
    span = max(1, int((hi - lo).total_seconds()))
    return lo + timedelta(seconds=rng.randrange(span))


def typo(rng: random.Random, s: str) -> str:
    """A single keyboard-style edit away from the first character (people get initials right)."""
    if len(s) < 3:
        return s
    for _ in range(3):
        op = rng.randrange(4)
        i = rng.randrange(2 if op == 3 else 1, len(s))
        if op == 0:
            out = s[:i] + rng.choice("abcdefghijklmnoprstuwy") + s[i + 1 :]
        elif op == 1:
            out = s[:i] + s[i + 1 :]
        elif op == 2:
            out = s[:i] + s[i] + s[i:]
        else:
            out = s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]
        if out != s:
            return out
    return s[:-1]


def letters_only(s: str) -> str:
    return re.sub(r"[^a-z]", "", unidecode(s).lower())


def unique_keys(count: int, make: Any) -> list[str]:
    seen: set[str] = set()
    keys: list[str] = []
    while len(keys) < count:
        key = make()
        if key not in seen:
            seen.add(key)
            keys.append(key)
    return keys
