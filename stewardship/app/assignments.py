"""Who is working on which queued pair, so two stewards do not review the same pairs.

An assignment is advisory (anyone with the steward role may still decide any pair; the
decision's optimistic lock is what prevents lost updates); it lets a steward take a batch
of the queue and work through it.

A skip is per steward and sticks: the pair a steward skipped is not served to them next
(the queue still lists it), until they decide it or take the skip back.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from stewardship.store import Base, DecisionStore, ordered


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class PairAssignment(Base):
    __tablename__ = "pair_assignments"
    __table_args__ = (UniqueConstraint("entity", "record_l", "record_r"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), index=True)
    record_l: Mapped[str] = mapped_column(String(512))
    record_r: Mapped[str] = mapped_column(String(512))
    assignee: Mapped[str] = mapped_column(String(256), index=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class PairSkip(Base):
    __tablename__ = "pair_skips"
    __table_args__ = (UniqueConstraint("entity", "record_l", "record_r", "username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), index=True)
    record_l: Mapped[str] = mapped_column(String(512))
    record_r: Mapped[str] = mapped_column(String(512))
    username: Mapped[str] = mapped_column(String(256), index=True)
    skipped_at: Mapped[datetime] = mapped_column(DateTime, default=_now)


class Assignments:
    def __init__(self, store: DecisionStore) -> None:
        self.store = store
        # Tables added after a store was first created are created here on first use.
        Base.metadata.create_all(
            store.engine,
            tables=[
                Base.metadata.tables[PairAssignment.__tablename__],
                Base.metadata.tables[PairSkip.__tablename__],
            ],
        )

    def skip(self, entity: str, pair: tuple[str, str], username: str) -> None:
        record_l, record_r = ordered(*pair)
        try:
            with self.store.session() as session:
                session.add(
                    PairSkip(entity=entity, record_l=record_l, record_r=record_r, username=username)
                )
        except IntegrityError:
            pass  # skipped already

    def unskip(self, entity: str, pair: tuple[str, str], username: str) -> None:
        record_l, record_r = ordered(*pair)
        with self.store.session() as session:
            session.execute(
                delete(PairSkip).where(
                    PairSkip.entity == entity,
                    PairSkip.record_l == record_l,
                    PairSkip.record_r == record_r,
                    PairSkip.username == username,
                )
            )

    def skipped(self, entity: str, username: str) -> set[tuple[str, str]]:
        with self.store.session() as session:
            rows = session.scalars(
                select(PairSkip).where(PairSkip.entity == entity, PairSkip.username == username)
            )
            return {(row.record_l, row.record_r) for row in rows}

    def of_entity(self, entity: str) -> dict[tuple[str, str], str]:
        """(record_l, record_r) -> assignee."""
        with self.store.session() as session:
            rows = session.scalars(select(PairAssignment).where(PairAssignment.entity == entity))
            return {(row.record_l, row.record_r): row.assignee for row in rows}

    def assign(self, entity: str, pairs: list[tuple[str, str]], assignee: str) -> int:
        """Assign the pairs nobody holds yet; returns how many were taken."""
        taken = 0
        for a, b in pairs:
            record_l, record_r = ordered(a, b)
            try:
                with self.store.session() as session:
                    session.add(
                        PairAssignment(
                            entity=entity, record_l=record_l, record_r=record_r, assignee=assignee
                        )
                    )
                taken += 1
            except IntegrityError:
                continue  # another steward took it meanwhile
        return taken

    def release(
        self, entity: str, assignee: str, pairs: list[tuple[str, str]] | None = None
    ) -> int:
        with self.store.session() as session:
            query = delete(PairAssignment).where(
                PairAssignment.entity == entity, PairAssignment.assignee == assignee
            )
            if pairs is not None:
                keys = [ordered(a, b) for a, b in pairs]
                if not keys:
                    return 0
                query = query.where(
                    (PairAssignment.record_l + "|" + PairAssignment.record_r).in_(
                        [f"{a}|{b}" for a, b in keys]
                    )
                )
            # A DML statement's result is a CursorResult; Session.execute is typed for queries.
            result = cast(CursorResult[Any], session.execute(query))
            return result.rowcount or 0
