"""Progress for long steps: the pipeline reports, the CLI decides how to show it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol


class Progress(Protocol):
    def stage(self, name: str) -> AbstractContextManager[None]:
        """A context manager around one stage."""
        ...

    def task(self, description: str, total: int | None) -> Callable[[int], None]:
        """Start a task; the returned callable advances it."""
        ...


class SilentProgress:
    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        yield

    def task(self, description: str, total: int | None) -> Callable[[int], None]:
        return lambda advance: None
