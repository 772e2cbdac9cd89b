"""The review queue as a steward sees it: the run's review band joined with the decisions
taken and the assignments, filtered and sorted."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeVar

from matching.standardize import clean_text
from stewardship.app.lakeview import EntityView
from stewardship.store import PairDecision, ordered

SortKey = Literal["probability", "age", "source"]
StatusFilter = Literal["open", "decided", "all"]
AssigneeFilter = Literal["all", "me", "unassigned"]
SORTS: tuple[SortKey, ...] = ("probability", "age", "source")
STATUSES: tuple[StatusFilter, ...] = ("open", "decided", "all")
ASSIGNEES: tuple[AssigneeFilter, ...] = ("all", "me", "unassigned")

T = TypeVar("T", bound=str)


def _choice(value: str | None, choices: tuple[T, ...], default: T) -> T:
    """`value` if it is one of `choices` (typed as they are), else `default`."""
    return next((choice for choice in choices if choice == value), default)


@dataclass(frozen=True)
class QueueRow:
    record_l: str
    record_r: str
    label_l: str
    label_r: str
    source_l: str
    source_r: str
    master_l: str | None
    master_r: str | None
    match_probability: float
    match_weight: float
    queued_at: datetime | None
    run_id: str
    decision: PairDecision | None
    assignee: str | None

    @property
    def open(self) -> bool:
        return self.decision is None

    @property
    def same_master(self) -> bool:
        return self.master_l is not None and self.master_l == self.master_r


@dataclass(frozen=True)
class QueueFilter:
    sort: SortKey = "probability"
    descending: bool = True
    status: StatusFilter = "open"
    assignee: AssigneeFilter = "all"
    source: str = ""
    query: str = ""

    @classmethod
    def parse(
        cls,
        sort: str | None,
        order: str | None,
        status: str | None,
        assignee: str | None,
        source: str | None,
        q: str | None,
    ) -> QueueFilter:
        chosen = _choice(sort, SORTS, "probability")
        default_desc = chosen == "probability"
        descending = default_desc if order not in ("asc", "desc") else order == "desc"
        return cls(
            sort=chosen,
            descending=descending,
            status=_choice(status, STATUSES, "open"),
            assignee=_choice(assignee, ASSIGNEES, "all"),
            source=(source or "").strip(),
            query=(q or "").strip()[:200],
        )

    def params(self, **changes: str) -> dict[str, str]:
        """The query parameters that reproduce this view (with changes)."""
        values = {
            "sort": self.sort,
            "order": "desc" if self.descending else "asc",
            "status": self.status,
            "assignee": self.assignee,
            "source": self.source,
            "q": self.query,
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v}


def source_of(record_id: str) -> str:
    return record_id.split(":", 1)[0]


def queue_rows(
    view: EntityView,
    decisions: dict[tuple[str, str], PairDecision],
    assignments: dict[tuple[str, str], str],
) -> list[QueueRow]:
    rows = []
    for item in view.queue:
        key = ordered(item["record_id_l"], item["record_id_r"])
        rows.append(
            QueueRow(
                record_l=key[0],
                record_r=key[1],
                label_l=view.label(key[0]),
                label_r=view.label(key[1]),
                source_l=source_of(key[0]),
                source_r=source_of(key[1]),
                master_l=view.masters.get(key[0]),
                master_r=view.masters.get(key[1]),
                match_probability=float(item["match_probability"]),
                match_weight=float(item["match_weight"]),
                queued_at=item.get("queued_at"),
                run_id=str(item.get("run_id") or ""),
                decision=decisions.get(key),
                assignee=assignments.get(key),
            )
        )
    return rows


def apply_filter(rows: list[QueueRow], spec: QueueFilter, me: str) -> list[QueueRow]:
    # Labels read as the sources wrote them ("José García"): "jose" finds them too.
    query = clean_text(spec.query) or ""
    selected = []
    for row in rows:
        if spec.status == "open" and not row.open:
            continue
        if spec.status == "decided" and row.open:
            continue
        if spec.assignee == "me" and row.assignee != me:
            continue
        if spec.assignee == "unassigned" and row.assignee is not None:
            continue
        if spec.source and spec.source not in (row.source_l, row.source_r):
            continue
        if query and not any(
            query in (clean_text(text) or "")
            for text in (row.record_l, row.record_r, row.label_l, row.label_r)
        ):
            continue
        selected.append(row)
    return sort_rows(selected, spec)


def sort_rows(rows: list[QueueRow], spec: QueueFilter) -> list[QueueRow]:
    def key(row: QueueRow) -> tuple[object, ...]:
        if spec.sort == "age":
            return (row.queued_at or datetime.max, row.record_l, row.record_r)
        if spec.sort == "source":
            return (row.source_l, row.source_r, -row.match_probability, row.record_l)
        return (row.match_probability, row.record_l, row.record_r)

    return sorted(rows, key=key, reverse=spec.descending)


def next_open(
    rows: list[QueueRow], me: str, after: tuple[str, str] | None = None
) -> QueueRow | None:
    """The pair to review next: my assigned open pairs first, then unassigned open ones,
    in queue order, skipping the one just decided."""
    candidates = [r for r in rows if r.open and (r.record_l, r.record_r) != after]
    mine = [r for r in candidates if r.assignee == me]
    free = [r for r in candidates if r.assignee is None]
    for group in (mine, free):
        if group:
            return group[0]
    return None
