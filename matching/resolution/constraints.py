"""What clustering must honour, whoever decided it: record-level must-links and cannot-links.

Resolution defines the shape; the steward store (a higher layer) produces it and is handed in
by the caller as `StewardDecisions`, so matching never imports stewardship.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Constraints:
    """What clustering must honour for one entity."""

    must_links: list[tuple[str, str]] = field(default_factory=list)
    cannot_links: list[tuple[str, str]] = field(default_factory=list)
    decision_ids: list[int] = field(default_factory=list)
    change_ids: list[int] = field(default_factory=list)  # revoked ones too, until applied
    # Records named by decisions no run has applied yet (new, changed or revoked): an
    # incremental run re-clusters around them.
    pending_records: list[str] = field(default_factory=list)
    # The state each decision (`("pair", id)`: its version) and change (`("change", id)`: 1
    # once revoked) was read in: one a steward edits while the run clusters is not marked
    # applied by it, so the next run still takes it up.
    seen: dict[tuple[str, int], int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.must_links or self.cannot_links)


@runtime_checkable
class StewardDecisions(Protocol):
    """The decisions matching reads and acknowledges (implemented by the steward store)."""

    def constraints(self, entity: str) -> Constraints:
        """Every decision in force for the entity."""
        ...

    def mark_applied(
        self,
        constraints: Constraints,
        run_id: str,
        refused_must_links: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Note the run that first clustered with these decisions in force, and the
        must-links it refused (they crossed a cannot-link)."""
        ...

    def matched_pairs(self, entity: str) -> list[tuple[str, str]]:
        """The record pairs decided to be the same entity (training labels)."""
        ...
