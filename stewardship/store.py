"""Durable steward decisions: pair decisions, manual merges and splits, and their audit trail.

Everything a steward decides is stored here (SQLAlchemy: SQLite embedded, PostgreSQL in
production) and reduces to record-level constraints that clustering honours on every later
run, whatever the model says:

- a pair decided `match` is a must-link, `no_match` a cannot-link, `unsure` neither;
- a manual merge must-links the members the masters had when it was made;
- a manual split must-links the records split out and cannot-links them from the rest.

The store implements `matching.resolution.constraints.StewardDecisions`; the caller of
matching hands it in, so matching never imports stewardship. Decisions name records, never master ids: ids
move between runs, records do not.
A pair decision carries a version for optimistic locking: a steward deciding with a stale
version is told someone else decided first, and nothing is overwritten. Only stewards move
versions: a run that applies a decision records that in `decision_applications` (and the
row's `applied_run_id`, written without the ORM's version bump), so applying never turns the
next steward's edit into a false conflict.

A merge or split that contradicts a standing decision (merging records a steward kept apart,
splitting records a steward joined) is refused with the decisions it contradicts
(`Contradicted`), unless the steward overrides: then those decisions are revoked in the same
transaction, audited, so the store never holds both.

One module: the tables, their writes and the audit trail share one schema and one
transaction per decision, and splitting them would split a transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    Select,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from e360.errors import E360Error
from matching.resolution.clustering import components
from matching.resolution.constraints import Constraints

if TYPE_CHECKING:
    from e360.config import E360Config

PairVerdict = Literal["match", "no_match", "unsure"]
VERDICTS: tuple[PairVerdict, ...] = ("match", "no_match", "unsure")


class StewardError(E360Error):
    """A decision that cannot be taken as asked."""


class DecisionConflict(StewardError):
    """Someone decided the same thing first (the version the steward saw is stale)."""


@dataclass(frozen=True)
class StandingDecision:
    """A decision in force that constrains some record pairs: a pair decision or a manual
    change, with who, when and why, and the pairs (of a given set) it links or separates."""

    source: Literal["pair", "change"]
    source_id: int
    entity: str
    what: str  # match, no_match, merge or split
    decided_by: str
    decided_at: datetime
    comment: str | None
    master_ids: tuple[str, ...] = ()  # a change's masters
    pairs: tuple[tuple[str, str], ...] = field(default=())

    @property
    def describe(self) -> str:
        when = self.decided_at.isoformat(sep=" ", timespec="minutes")
        if self.source == "pair":
            a, b = self.pairs[0] if self.pairs else ("?", "?")
            verdict = "not a match" if self.what == "no_match" else self.what
            return f"pair {a} / {b} decided {verdict} by {self.decided_by} at {when}"
        return f"{self.what} #{self.source_id} by {self.decided_by} at {when}"


class Contradicted(StewardError):
    """A merge or split that contradicts standing decisions (override to revoke them)."""

    def __init__(self, kind: str, standing: list[StandingDecision]) -> None:
        named = "; ".join(d.describe for d in standing)
        super().__init__(f"this {kind} contradicts {named}")
        self.kind = kind
        self.standing = standing


class Base(DeclarativeBase):
    pass


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class PairDecision(Base):
    """The current decision on one record pair (record_l < record_r)."""

    __tablename__ = "pair_decisions"
    __table_args__ = (UniqueConstraint("entity", "record_l", "record_r"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), index=True)
    record_l: Mapped[str] = mapped_column(String(512))
    record_r: Mapped[str] = mapped_column(String(512))
    verdict: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(256))
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # The run that first clustered with this decision in force (None: not applied yet).
    applied_run_id: Mapped[str | None] = mapped_column(String(64))

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's API)


class MasterChange(Base):
    """A manual merge of masters or split of records out of a master."""

    __tablename__ = "master_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    master_ids: Mapped[list[str]] = mapped_column(JSON)
    # merge: every member record of the merged masters; split: the records split out.
    records: Mapped[list[str]] = mapped_column(JSON)
    # split only: the members that stay behind.
    remaining: Mapped[list[str]] = mapped_column(JSON, default=list)
    reason: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str] = mapped_column(String(256))
    decided_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    applied_run_id: Mapped[str | None] = mapped_column(String(64))
    # A change can be revoked (an undo); revoked changes constrain nothing.
    revoked_by: Mapped[str | None] = mapped_column(String(256))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class DecisionApplication(Base):
    """How a run applied a decision the first time it clustered with it in force: fully,
    partly (some of a change's links refused) or not at all, and what refused it."""

    __tablename__ = "decision_applications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), index=True)
    source: Mapped[str] = mapped_column(String(16))  # pair or change
    source_id: Mapped[int] = mapped_column(Integer, index=True)
    # A pair decision's version when applied: a later edit needs applying again.
    source_version: Mapped[int] = mapped_column(Integer, default=0)
    run_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    status: Mapped[str] = mapped_column(String(16))  # applied, partly, refused
    # [{"records": [a, b], "blocked_by": [{"records": [c, d], "what": ..., ...}]}]
    refused: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class AuditEntry(Base):
    """Append-only: every decision and manual change, with the state before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(256))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str | None] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(Text)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)


def ordered(record_a: str, record_b: str) -> tuple[str, str]:
    if record_a == record_b:
        raise StewardError(f"a pair needs two different records (got '{record_a}' twice)")
    return (record_a, record_b) if record_a < record_b else (record_b, record_a)


def _pair_state(decision: PairDecision | None) -> dict[str, Any] | None:
    if decision is None:
        return None
    return {
        "verdict": decision.verdict,
        "comment": decision.comment,
        "decided_by": decision.decided_by,
        "decided_at": decision.decided_at.isoformat(timespec="seconds"),
        "version": decision.version,
    }


class DecisionStore:
    """The steward store behind one SQLAlchemy URL; tables are created on first use."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = create_engine(url, future=True)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def at_path(cls, path: Path) -> DecisionStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(f"sqlite:///{path}")

    @classmethod
    def from_config(cls, config: E360Config) -> DecisionStore:
        url = config.steward_store_url
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        return cls(url)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    def close(self) -> None:
        self.engine.dispose()

    # pair decisions ------------------------------------------------------------------------

    def decide_pair(
        self,
        entity: str,
        record_a: str,
        record_b: str,
        verdict: PairVerdict,
        actor: str,
        *,
        comment: str | None = None,
        expected_version: int | None = None,
    ) -> PairDecision:
        """Record (or change) the decision on a pair.

        `expected_version`: the version the steward saw (0 when there was no decision yet);
        if the pair was decided since, DecisionConflict is raised and nothing changes.
        """
        if verdict not in VERDICTS:
            raise StewardError(f"unknown verdict '{verdict}'; use one of {list(VERDICTS)}")
        record_l, record_r = ordered(record_a, record_b)
        try:
            return self._decide_pair(
                entity, record_l, record_r, verdict, actor, comment, expected_version
            )
        except (StaleDataError, IntegrityError):
            # Another steward's decision committed between our read and our write.
            current = self.pair_decision(entity, record_l, record_r)
            who = f" by {current.decided_by}" if current is not None else ""
            raise DecisionConflict(
                f"{entity} pair {record_l} / {record_r} was decided{who} in the meantime; "
                "reload and review again"
            ) from None

    def _decide_pair(
        self,
        entity: str,
        record_l: str,
        record_r: str,
        verdict: PairVerdict,
        actor: str,
        comment: str | None,
        expected_version: int | None,
    ) -> PairDecision:
        with self.session() as session:
            current = session.scalar(_pair_query(entity, record_l, record_r).with_for_update())
            seen = 0 if current is None else current.version
            if expected_version is not None and expected_version != seen:
                who = f" by {current.decided_by}" if current is not None else ""
                raise DecisionConflict(
                    f"{entity} pair {record_l} / {record_r} was decided{who} in the meantime "
                    f"(version {seen}, you saw {expected_version}); reload and review again"
                )
            before = _pair_state(current)
            if current is None:
                current = PairDecision(entity=entity, record_l=record_l, record_r=record_r)
                session.add(current)
            current.verdict = verdict
            current.comment = comment
            current.decided_by = actor
            current.decided_at = _now()
            current.applied_run_id = None
            session.flush()
            session.add(
                AuditEntry(
                    actor=actor,
                    action="decide_pair",
                    entity=entity,
                    subject=f"{record_l} | {record_r}",
                    before=before,
                    after=_pair_state(current),
                    comment=comment,
                )
            )
        return current

    def pair_decision(self, entity: str, record_a: str, record_b: str) -> PairDecision | None:
        record_l, record_r = ordered(record_a, record_b)
        with self.session() as session:
            return session.scalar(_pair_query(entity, record_l, record_r))

    def matched_pairs(self, entity: str) -> list[tuple[str, str]]:
        """The pairs decided `match` (record_l < record_r), oldest decision first."""
        return [
            (d.record_l, d.record_r) for d in self.pair_decisions(entity) if d.verdict == "match"
        ]

    def pair_decisions(self, entity: str | None = None) -> list[PairDecision]:
        query = select(PairDecision).order_by(PairDecision.id)
        if entity is not None:
            query = query.where(PairDecision.entity == entity)
        with self.session() as session:
            return list(session.scalars(query))

    # manual changes ------------------------------------------------------------------------

    def merge_masters(
        self,
        entity: str,
        members: dict[str, Sequence[str]],
        actor: str,
        reason: str,
        *,
        override: bool = False,
    ) -> MasterChange:
        """Merge masters: `members` maps each master id to its member record ids now.

        Refused (Contradicted) when a standing decision keeps two of the records apart,
        unless `override`: then those decisions are revoked with the merge.
        """
        if len(members) < 2:
            raise StewardError("a merge needs at least two masters")
        if not reason.strip():
            raise StewardError("a merge needs a reason")
        empty = sorted(m for m, records in members.items() if not records)
        if empty:
            raise StewardError(f"{entity} masters {empty} have no members to merge")
        records = sorted({r for rs in members.values() for r in rs})
        change = MasterChange(
            entity=entity,
            kind="merge",
            master_ids=sorted(members),
            records=records,
            remaining=[],
            reason=reason,
            decided_by=actor,
        )
        together = set(records)
        standing = self.contradictions(
            entity, lambda kind, a, b: kind == "cannot" and a in together and b in together
        )
        before = {"members": {m: sorted(r) for m, r in members.items()}}
        return self._record_change(change, before, standing, override=override)

    def split_master(
        self,
        entity: str,
        master_id: str,
        split_out: Sequence[str],
        remaining: Sequence[str],
        actor: str,
        reason: str,
        *,
        override: bool = False,
    ) -> MasterChange:
        """Split `split_out` records out of a master; `remaining` are the members that stay.

        Refused (Contradicted) when a standing decision joins a record leaving with one
        staying, unless `override`: then those decisions are revoked with the split.
        """
        split_set, remaining_set = set(split_out), set(remaining)
        if not split_set or not remaining_set:
            raise StewardError(
                f"{entity} master {master_id}: a split needs records to split out and "
                "records that stay"
            )
        if split_set & remaining_set:
            raise StewardError(
                f"{entity} master {master_id}: records {sorted(split_set & remaining_set)} "
                "cannot both leave and stay"
            )
        if not reason.strip():
            raise StewardError("a split needs a reason")
        change = MasterChange(
            entity=entity,
            kind="split",
            master_ids=[master_id],
            records=sorted(split_set),
            remaining=sorted(remaining_set),
            reason=reason,
            decided_by=actor,
        )

        def crosses(kind: str, a: str, b: str) -> bool:
            return kind == "must" and (
                (a in split_set and b in remaining_set) or (b in split_set and a in remaining_set)
            )

        standing = self.contradictions(entity, crosses)
        return self._record_change(change, None, standing, override=override)

    def revoke_change(self, change_id: int, actor: str, reason: str) -> None:
        with self.session() as session:
            self._revoke_change(session, change_id, actor, reason)

    def _revoke_change(self, session: Session, change_id: int, actor: str, reason: str) -> None:
        change = session.get(MasterChange, change_id)
        if change is None:
            raise StewardError(f"no manual change with id {change_id}")
        if change.revoked_at is not None:
            raise DecisionConflict(f"change {change_id} is already revoked")
        change.revoked_by = actor
        change.revoked_at = _now()
        change.applied_run_id = None  # the next run must undo it
        session.add(
            AuditEntry(
                actor=actor,
                action=f"revoke_{change.kind}",
                entity=change.entity,
                subject=f"change {change_id}",
                before={"revoked": False},
                after={"revoked": True},
                comment=reason,
            )
        )

    def master_changes(self, entity: str | None = None) -> list[MasterChange]:
        query = select(MasterChange).order_by(MasterChange.id)
        if entity is not None:
            query = query.where(MasterChange.entity == entity)
        with self.session() as session:
            return list(session.scalars(query))

    def _record_change(
        self,
        change: MasterChange,
        before: dict[str, Any] | None,
        standing: list[StandingDecision],
        *,
        override: bool,
    ) -> MasterChange:
        if standing and not override:
            raise Contradicted(change.kind, standing)
        with self.session() as session:
            session.add(change)
            session.flush()
            # Same transaction: the change is never stored beside what it contradicts.
            why = f"overridden by {change.kind} #{change.id}: {change.reason}"
            for decision in standing:
                if decision.source == "change":
                    self._revoke_change(session, decision.source_id, change.decided_by, why)
                else:
                    self._revoke_pair(session, decision.source_id, change.decided_by, why)
            session.add(
                AuditEntry(
                    actor=change.decided_by,
                    action=f"{change.kind}_masters" if change.kind == "merge" else "split_master",
                    entity=change.entity,
                    subject=", ".join(change.master_ids),
                    before=before,
                    after={
                        "change_id": change.id,
                        "records": change.records,
                        "remaining": change.remaining,
                        **({"revoked": [d.describe for d in standing]} if standing else {}),
                    },
                    comment=change.reason,
                )
            )
        return change

    def _revoke_pair(self, session: Session, decision_id: int, actor: str, reason: str) -> None:
        decision = session.get(PairDecision, decision_id)
        if decision is None:
            raise DecisionConflict(f"pair decision {decision_id} was removed in the meantime")
        session.add(
            AuditEntry(
                actor=actor,
                action="revoke_pair",
                entity=decision.entity,
                subject=f"{decision.record_l} | {decision.record_r}",
                before=_pair_state(decision),
                after=None,
                comment=reason,
            )
        )
        session.execute(delete(PairDecision).where(PairDecision.id == decision_id))

    # what clustering honours ---------------------------------------------------------------

    def standing_links(self, entity: str) -> dict[tuple[str, str], tuple[str, StandingDecision]]:
        """Every record pair a decision in force constrains: pair -> (must or cannot, the
        decision). Later decisions win over earlier ones about the same records: a pair
        decision made after a manual change overrides what the change implied for that pair.
        """
        stamped: list[tuple[datetime, int, str, str, str, StandingDecision]] = []
        for decision in self.pair_decisions(entity):
            if decision.verdict == "unsure":
                continue
            kind = "must" if decision.verdict == "match" else "cannot"
            pair = (decision.record_l, decision.record_r)
            standing = StandingDecision(
                "pair",
                decision.id,
                entity,
                decision.verdict,
                decision.decided_by,
                decision.decided_at,
                decision.comment,
                pairs=(pair,),
            )
            stamped.append((decision.decided_at, 1, kind, *pair, standing))
        for change in self.master_changes(entity):
            if change.revoked_at is not None:
                continue
            standing = StandingDecision(
                "change",
                change.id,
                entity,
                change.kind,
                change.decided_by,
                change.decided_at,
                change.reason,
                master_ids=tuple(change.master_ids),
            )
            for kind in ("must", "cannot"):
                for a, b in _change_links(change, kind):
                    stamped.append((change.decided_at, 0, kind, a, b, standing))
        latest: dict[tuple[str, str], tuple[str, StandingDecision]] = {}
        for _, _, kind, a, b, standing in sorted(stamped, key=lambda s: s[:5]):
            latest[ordered(a, b)] = (kind, standing)
        return latest

    def contradictions(
        self, entity: str, contradicts: Callable[[str, str, str], bool]
    ) -> list[StandingDecision]:
        """The standing decisions with a link `contradicts(kind, a, b)`, each with the pairs
        it contradicts on, oldest first."""
        found: dict[tuple[str, int], list[tuple[str, str]]] = {}
        decisions: dict[tuple[str, int], StandingDecision] = {}
        for (a, b), (kind, standing) in self.standing_links(entity).items():
            if contradicts(kind, a, b):
                key = (standing.source, standing.source_id)
                found.setdefault(key, []).append((a, b))
                decisions[key] = standing
        return [
            replace(decisions[key], pairs=tuple(sorted(pairs)))
            for key, pairs in sorted(found.items(), key=lambda kv: decisions[kv[0]].decided_at)
        ]

    def constraints(self, entity: str) -> Constraints:
        """Every decision in force, as record-level must-links and cannot-links
        (`standing_links`)."""
        decision_ids: list[int] = []
        change_ids: list[int] = []
        pending: set[str] = set()
        seen: dict[tuple[str, int], int] = {}
        for decision in self.pair_decisions(entity):
            decision_ids.append(decision.id)
            seen[("pair", decision.id)] = decision.version
            if decision.applied_run_id is None:
                pending.update((decision.record_l, decision.record_r))
        for change in self.master_changes(entity):
            seen[("change", change.id)] = int(change.revoked_at is not None)
            if change.applied_run_id is None:
                pending.update(change.records)
                pending.update(change.remaining)
                change_ids.append(change.id)
            elif change.revoked_at is None:
                change_ids.append(change.id)
        latest = self.standing_links(entity)
        return Constraints(
            must_links=sorted(pair for pair, (kind, _) in latest.items() if kind == "must"),
            cannot_links=sorted(pair for pair, (kind, _) in latest.items() if kind == "cannot"),
            decision_ids=decision_ids,
            change_ids=change_ids,
            pending_records=sorted(pending),
            seen=seen,
        )

    def mark_applied(
        self,
        constraints: Constraints,
        run_id: str,
        refused_must_links: Sequence[tuple[str, str]] = (),
    ) -> None:
        """Note the run that first clustered with these decisions in force, and how far it
        applied each (`refused_must_links`: the must-links clustering refused)."""
        entity = self._entity_of(constraints)
        links = self.standing_links(entity) if entity is not None else {}
        refusals = refusal_reasons(links, refused_must_links)
        with self.session() as session:
            decisions = select(PairDecision).where(
                PairDecision.id.in_(constraints.decision_ids), PairDecision.applied_run_id.is_(None)
            )
            changes = select(MasterChange).where(
                MasterChange.id.in_(constraints.change_ids), MasterChange.applied_run_id.is_(None)
            )
            first: list[PairDecision | MasterChange] = [
                row
                for row in [*session.scalars(decisions), *session.scalars(changes)]
                if _as_seen(row, constraints.seen)
            ]
            for row in first:
                source = "pair" if isinstance(row, PairDecision) else "change"
                refused = refusals.get((source, row.id), [])
                own = sum(1 for _, standing in links.values() if _is(standing, source, row.id))
                if isinstance(row, MasterChange) and row.revoked_at is None:
                    overruled = _overruled(row, links)
                    refused = [*refused, *overruled]
                    own += len(overruled)
                status = (
                    "applied" if not refused else ("partly" if own > len(refused) else "refused")
                )
                session.add(
                    DecisionApplication(
                        entity=row.entity,
                        source=source,
                        source_id=row.id,
                        source_version=row.version if isinstance(row, PairDecision) else 0,
                        run_id=run_id,
                        status=status,
                        refused=refused,
                    )
                )
            # A bulk UPDATE, not the ORM's unit of work: the version column (optimistic
            # locking) counts steward edits, and applying is not one.
            for table, ids in (
                (PairDecision, [r.id for r in first if isinstance(r, PairDecision)]),
                (MasterChange, [r.id for r in first if isinstance(r, MasterChange)]),
            ):
                if ids:
                    session.execute(
                        update(table)
                        .where(table.id.in_(ids))
                        .values(applied_run_id=run_id)
                        .execution_options(synchronize_session=False)
                    )

    def _entity_of(self, constraints: Constraints) -> str | None:
        with self.session() as session:
            for table, ids in (
                (PairDecision, constraints.decision_ids),
                (MasterChange, constraints.change_ids),
            ):
                if ids:
                    entity = session.scalar(select(table.entity).where(table.id == ids[0]))
                    if entity is not None:
                        return entity
        return None

    def applications(self, entity: str) -> dict[tuple[str, int], DecisionApplication]:
        """(pair or change, id) -> how the run that first applied it did."""
        query = (
            select(DecisionApplication)
            .where(DecisionApplication.entity == entity)
            .order_by(DecisionApplication.id)
        )
        with self.session() as session:
            return {(a.source, a.source_id): a for a in session.scalars(query)}

    # audit ---------------------------------------------------------------------------------

    def audit(self, entity: str | None = None) -> list[AuditEntry]:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if entity is not None:
            query = query.where(AuditEntry.entity == entity)
        with self.session() as session:
            return list(session.scalars(query))

    def record_audit(
        self,
        actor: str,
        action: str,
        subject: str,
        *,
        entity: str | None = None,
        before: dict[str, Any] | None = None,
        after: dict[str, Any] | None = None,
        comment: str | None = None,
    ) -> None:
        """For changes made outside this store (user management, sign-ins)."""
        with self.session() as session:
            session.add(
                AuditEntry(
                    actor=actor,
                    action=action,
                    entity=entity,
                    subject=subject,
                    before=before,
                    after=after,
                    comment=comment,
                )
            )


def _pair_query(entity: str, record_l: str, record_r: str) -> Select[PairDecision]:
    return select(PairDecision).where(
        PairDecision.entity == entity,
        PairDecision.record_l == record_l,
        PairDecision.record_r == record_r,
    )


def _change_links(change: MasterChange, kind: str) -> Iterable[tuple[str, str]]:
    """A chain of must-links joins a group; cannot-links keep split-out records apart."""
    if kind == "must":
        records = change.records
        anchor = records[0]
        return [(anchor, other) for other in records[1:]]
    if change.kind != "split":
        return []
    return [(out, stay) for out in change.records for stay in change.remaining]


def _is(standing: StandingDecision, source: str, source_id: int) -> bool:
    return standing.source == source and standing.source_id == source_id


def _blocker(pair: tuple[str, str], other: StandingDecision) -> dict[str, Any]:
    return {
        "records": list(pair),
        "source": other.source,
        "source_id": other.source_id,
        "what": other.what,
        "decided_by": other.decided_by,
        "decided_at": other.decided_at.isoformat(timespec="seconds"),
        "comment": other.comment,
        "master_ids": list(other.master_ids),
    }


def _overruled(
    change: MasterChange, links: dict[tuple[str, str], tuple[str, StandingDecision]]
) -> list[dict[str, Any]]:
    """The links of a change that a later decision on the same pair turned around (a "not
    a match" on two records a merge joined): the change no longer holds them together."""
    overruled = []
    for a, b in _change_links(change, "must"):
        pair = ordered(a, b)
        kind, other = links.get(pair, ("", None))
        if other is not None and kind == "cannot" and not _is(other, "change", change.id):
            overruled.append({"records": list(pair), "blocked_by": [_blocker(pair, other)]})
    return overruled


def refusal_reasons(
    links: dict[tuple[str, str], tuple[str, StandingDecision]],
    refused_must_links: Iterable[tuple[str, str]],
) -> dict[tuple[str, int], list[dict[str, Any]]]:
    """(source, id) -> the must-links of that decision clustering refused, each with the
    standing cannot-links that blocked it.

    Clustering applies every steward cannot-link, then the must-links; one is refused when
    it would join two groups a cannot-link keeps apart. The groups are rebuilt here from the
    must-links it accepted: the blocking cannot-links are those between the two groups.
    """
    refused = {ordered(a, b) for a, b in refused_must_links}
    if not refused:
        return {}
    group = components(
        pair for pair, (kind, _) in links.items() if kind == "must" and pair not in refused
    )

    def find(record: str) -> str:
        return group.get(record, record)

    cannot = [(pair, standing) for pair, (kind, standing) in links.items() if kind == "cannot"]
    reasons: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for a, b in sorted(refused):
        kind, standing = links.get((a, b), ("", None))
        if standing is None or kind != "must":
            continue
        groups = {find(a), find(b)}
        blocked_by = [
            _blocker(pair, other)
            for pair, other in cannot
            if {find(pair[0]), find(pair[1])} == groups
        ]
        reasons.setdefault((standing.source, standing.source_id), []).append(
            {"records": [a, b], "blocked_by": blocked_by}
        )
    return reasons


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    # Concurrent stewards: readers never block the writer, and a busy writer is waited for.
    cursor.execute("pragma journal_mode=wal")
    cursor.execute("pragma busy_timeout=5000")
    cursor.close()


def audit_rows(entries: Iterable[AuditEntry]) -> Iterator[dict[str, str]]:
    """Audit entries flattened for CSV export."""
    for entry in entries:
        yield {
            "id": str(entry.id),
            "at": entry.at.isoformat(timespec="seconds"),
            "actor": entry.actor,
            "action": entry.action,
            "entity": entry.entity or "",
            "subject": entry.subject,
            "before": json.dumps(entry.before, sort_keys=True) if entry.before else "",
            "after": json.dumps(entry.after, sort_keys=True) if entry.after else "",
            "comment": entry.comment or "",
        }


def _as_seen(row: PairDecision | MasterChange, seen: Mapping[tuple[str, int], int]) -> bool:
    """Whether a decision or change is still as the run read it (unknown: yes)."""
    if isinstance(row, PairDecision):
        return seen.get(("pair", row.id), row.version) == row.version
    revoked = int(row.revoked_at is not None)
    return seen.get(("change", row.id), revoked) == revoked
