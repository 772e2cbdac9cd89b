"""Lap times of a resolution's steps, for its report."""

from __future__ import annotations

import time


class Laps:
    """Seconds per named step, each measured from the end of the previous one."""

    def __init__(self) -> None:
        self.laps: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps[name] = round(now - self._last, 3)
        self._last = now
