"""Steward app users: local accounts with argon2id password hashes, and roles.

Roles nest: a `viewer` reads the queue, masters and audit; a `steward` also decides pairs,
merges, splits and takes work; an `admin` also manages users. OIDC identities (behind the
load balancer) are users too, without a password, so an admin can give them a role.

The table lives in the decision store's database (same declarative `Base`), so one
`create_all` covers decisions, audit and users.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Boolean, DateTime, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from stewardship.store import Base, DecisionStore, StewardError

Role = Literal["viewer", "steward", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "steward", "admin")
_RANK: dict[str, int] = {role: rank for rank, role in enumerate(ROLES)}
USERNAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{1,127}$")
MIN_PASSWORD_LENGTH = 10

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the user does not exist, so a wrong name costs as much as a wrong
# password and the response time does not reveal which names exist.
_DUMMY_HASH = _hasher.hash("e360-no-such-user")


class UserError(StewardError):
    """A user that cannot be created or changed as asked."""


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class User(Base):
    __tablename__ = "steward_users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # None for identities that sign in through OIDC (no local password).
    password_hash: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=_now)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)

    def can(self, role: Role) -> bool:
        """True when this user's role includes `role`'s rights."""
        return self.active and has_role(self.role, role)


def has_role(actual: str, needed: Role) -> bool:
    return actual in _RANK and _RANK[actual] >= _RANK[needed]


def check_role(role: str) -> Role:
    for known in ROLES:
        if role == known:
            return known
    raise UserError(f"unknown role '{role}'; use one of {list(ROLES)}")


def check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


class UserStore:
    """Users in the steward store's database."""

    def __init__(self, store: DecisionStore) -> None:
        self.store = store
        # The decision store created the tables it knew at import; make sure ours exist too.
        Base.metadata.create_all(store.engine, tables=[Base.metadata.tables[User.__tablename__]])

    def get(self, username: str) -> User | None:
        with self.store.session() as session:
            return session.scalar(select(User).where(User.username == username))

    def list(self) -> list[User]:
        with self.store.session() as session:
            return list(session.scalars(select(User).order_by(User.username)))

    def add(self, username: str, role: str, password: str | None, *, actor: str = "cli") -> User:
        """Create a user; `password` None makes an OIDC-only identity."""
        if not USERNAME_RE.match(username):
            raise UserError(
                f"user name '{username}' is not valid: 2-128 letters, digits and . _ @ + -"
            )
        role = check_role(role)
        if password is not None:
            check_password(password)
        if self.get(username) is not None:
            raise UserError(f"user '{username}' already exists")
        user = User(
            username=username,
            role=role,
            password_hash=None if password is None else _hasher.hash(password),
            active=True,
        )
        with self.store.session() as session:
            session.add(user)
        self.store.record_audit(
            actor, "add_user", username, after={"role": role, "local": password is not None}
        )
        return user

    def set_role(self, username: str, role: str, *, actor: str) -> User:
        role = check_role(role)
        return self._change(username, actor, "set_role", role=role)

    def set_active(self, username: str, active: bool, *, actor: str) -> User:
        return self._change(username, actor, "activate" if active else "deactivate", active=active)

    def set_password(self, username: str, password: str, *, actor: str) -> User:
        check_password(password)
        return self._change(username, actor, "set_password", password_hash=_hasher.hash(password))

    def authenticate(self, username: str, password: str) -> User | None:
        """The active local user with this name and password, or None (never says which
        part was wrong)."""
        user = self.get(username)
        stored = user.password_hash if user is not None else None
        try:
            _hasher.verify(stored or _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if user is None or stored is None or not user.active:
            return None
        if _hasher.check_needs_rehash(stored):
            self._change(username, username, None, password_hash=_hasher.hash(password))
        return self._change(username, username, None, last_sign_in_at=_now())

    def _change(self, username: str, actor: str, action: str | None, **values: object) -> User:
        with self.store.session() as session:
            user = session.scalar(select(User).where(User.username == username))
            if user is None:
                raise UserError(f"no user '{username}'")
            before = {"role": user.role, "active": user.active}
            for key, value in values.items():
                setattr(user, key, value)
            after = {"role": user.role, "active": user.active}
        if action is not None:
            # Never the hash itself: the audit says a password changed, not what to.
            self.store.record_audit(actor, action, username, before=before, after=after)
        return user

    def count_admins(self) -> int:
        return sum(1 for user in self.list() if user.active and user.role == "admin")
