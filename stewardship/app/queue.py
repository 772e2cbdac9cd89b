"""The review queue as a steward sees it: the run's review band joined with the decisions
taken, the manual changes that settled pairs, the assignments and skips; filtered, sorted,
grouped and paged.

A queued pair is in one state:
- `open`: nobody decided it and no manual change settled it;
- `unsure`: a steward looked and could not tell (not decided: it constrains nothing);
- `decided`: match or not a match, `applied` once a run clustered with it (maybe partly);
- `settled`: undecided, but a manual merge joined both records or a split parted them.

Pairs that share a record (a household, a family of product variants) form a group: the
connected components of the queue's pairs, decided together on the group page.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, TypeVar

from matching.resolution.clustering import components
from matching.standardize import clean_text
from stewardship.app.lakeview import EntityView
from stewardship.store import DecisionApplication, MasterChange, PairDecision, ordered

SortKey = Literal["probability", "age", "source"]
StatusFilter = Literal[
    "open", "unsure", "decided", "applied", "partly", "pending", "settled", "all"
]
AssigneeFilter = Literal["all", "me", "unassigned"]
RowState = Literal["open", "unsure", "decided", "settled"]
SORTS: tuple[SortKey, ...] = ("probability", "age", "source")
STATUSES: tuple[StatusFilter, ...] = (
    "open",
    "unsure",
    "decided",
    "applied",
    "partly",
    "pending",
    "settled",
    "all",
)
ASSIGNEES: tuple[AssigneeFilter, ...] = ("all", "me", "unassigned")
PAGE_SIZES: tuple[str, ...] = ("25", "50", "100", "200")
DEFAULT_PAGE_SIZE = 50

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
    settled_by: MasterChange | None = None
    application: DecisionApplication | None = None
    skipped: bool = False
    group: str | None = None  # the group's smallest record id (None: no other pair shares one)
    group_size: int = 1

    @property
    def key(self) -> tuple[str, str]:
        return (self.record_l, self.record_r)

    @property
    def state(self) -> RowState:
        if self.decision is not None:
            return "unsure" if self.decision.verdict == "unsure" else "decided"
        return "settled" if self.settled_by is not None else "open"

    @property
    def open(self) -> bool:
        return self.state == "open"

    @property
    def run_applied(self) -> bool:
        """A run has taken the decision up (wholly or not)."""
        return (
            self.state == "decided"
            and self.decision is not None
            and bool(self.decision.applied_run_id)
        )

    @property
    def applied(self) -> bool:
        """Applied in full: no link of it refused."""
        return self.run_applied and (
            self.application is None or self.application.status == "applied"
        )

    @property
    def partly(self) -> bool:
        """Taken up by a run that refused some or all of it (a cannot-link in the way)."""
        return self.run_applied and not self.applied

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
    size: int = DEFAULT_PAGE_SIZE
    grouped: bool = False

    @classmethod
    def parse(
        cls,
        sort: str | None,
        order: str | None,
        status: str | None,
        assignee: str | None,
        source: str | None,
        q: str | None,
        size: str | None = None,
        grouped: str | None = None,
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
            size=int(_choice(size, PAGE_SIZES, str(DEFAULT_PAGE_SIZE))),
            grouped=grouped == "1",
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
            "size": "" if self.size == DEFAULT_PAGE_SIZE else str(self.size),
            "grouped": "1" if self.grouped else "",
        }
        values.update(changes)
        return {k: v for k, v in values.items() if v}


def source_of(record_id: str) -> str:
    return record_id.split(":", 1)[0]


def settling_changes(
    changes: Iterable[MasterChange], pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], MasterChange]:
    """The latest standing manual change that settles each pair: a merge holding both
    records, or a split parting them."""
    standing = [c for c in changes if c.revoked_at is None]
    settled: dict[tuple[str, str], MasterChange] = {}
    for change in standing:
        records = set(change.records)
        remaining = set(change.remaining)
        for a, b in pairs:
            joined = change.kind == "merge" and a in records and b in records
            parted = change.kind == "split" and (
                (a in records and b in remaining) or (b in records and a in remaining)
            )
            if joined or parted:
                settled[(a, b)] = change
    return settled


def groups_of(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """record -> its group's smallest record id, over the connected pairs."""
    return components(pairs)


@dataclass(frozen=True)
class QueueState:
    """What the queue joins to the run's pairs (everything but the lake)."""

    decisions: dict[tuple[str, str], PairDecision]
    assignments: dict[tuple[str, str], str]
    changes: list[MasterChange] = field(default_factory=list)
    applications: dict[tuple[str, int], DecisionApplication] = field(default_factory=dict)
    skipped: set[tuple[str, str]] = field(default_factory=set)


def queue_rows(view: EntityView, state: QueueState) -> list[QueueRow]:
    keys = [ordered(item["record_id_l"], item["record_id_r"]) for item in view.queue]
    settled = settling_changes(state.changes, keys)
    group = groups_of(keys)
    sizes: dict[str, int] = {}
    for a, _ in keys:
        sizes[group[a]] = sizes.get(group[a], 0) + 1
    rows = []
    for item, key in zip(view.queue, keys, strict=True):
        decision = state.decisions.get(key)
        root = group[key[0]]
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
                decision=decision,
                assignee=state.assignments.get(key),
                settled_by=settled.get(key),
                application=state.applications.get(("pair", decision.id))
                if decision is not None and decision.applied_run_id
                else None,
                skipped=key in state.skipped,
                group=root if sizes[root] > 1 else None,
                group_size=sizes[root],
            )
        )
    return rows


def _status_matches(row: QueueRow, status: StatusFilter) -> bool:
    if status == "all":
        return True
    if status == "applied":
        return row.applied
    if status == "partly":
        return row.partly
    if status == "pending":
        return row.state == "decided" and not row.run_applied
    return row.state == status


def apply_filter(rows: list[QueueRow], spec: QueueFilter, me: str) -> list[QueueRow]:
    # Labels read as the sources wrote them ("José García"): "jose" finds them too.
    query = clean_text(spec.query) or ""
    selected = []
    for row in rows:
        if not _status_matches(row, spec.status):
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

    ordered_rows = sorted(rows, key=key, reverse=spec.descending)
    if not spec.grouped:
        return ordered_rows
    # Each group where its first pair falls in this order, its pairs together.
    rank: dict[str, int] = {}
    for index, row in enumerate(ordered_rows):
        rank.setdefault(row.group or row.record_l + "|" + row.record_r, index)
    return sorted(ordered_rows, key=lambda r: rank[r.group or r.record_l + "|" + r.record_r])


def next_open(
    rows: list[QueueRow], me: str, after: tuple[str, str] | None = None
) -> QueueRow | None:
    """The pair to review next: my assigned open pairs first, then unassigned open ones,
    in queue order, leaving out the one just decided and those I skipped."""
    candidates = [r for r in rows if r.open and not r.skipped and r.key != after]
    mine = [r for r in candidates if r.assignee == me]
    free = [r for r in candidates if r.assignee is None]
    for group in (mine, free):
        if group:
            return group[0]
    return None


@dataclass(frozen=True)
class Page:
    """One page of a filtered queue, and the counts to say where it is."""

    rows: list[QueueRow]
    count: int
    page: int
    pages: int
    size: int

    @classmethod
    def of(cls, rows: list[QueueRow], page: int, size: int) -> Page:
        pages = max(1, -(-len(rows) // size))
        page = min(max(page, 1), pages)
        return cls(rows[(page - 1) * size : page * size], len(rows), page, pages, size)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.size + 1 if self.count else 0

    @property
    def last(self) -> int:
        return min(self.page * self.size, self.count)
