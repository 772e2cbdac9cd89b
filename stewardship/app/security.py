"""Sign-in, roles and CSRF for the steward app.

- The session is a cookie signed with itsdangerous (Starlette's SessionMiddleware): it holds
  the signed-in user name and the CSRF token, nothing else. HttpOnly, SameSite=Lax, Secure
  behind HTTPS, expiring after `session_max_age_hours`.
- Every request names its user again from the store, so a role change or a deactivation
  takes effect at once.
- Every state-changing request (POST, PUT, PATCH, DELETE) must carry the session's CSRF token
  as the form field `csrf_token` or the header `X-CSRF-Token`; without it: 403.
"""

from __future__ import annotations

import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request

from e360.config import E360Config
from e360.errors import ConfigError
from stewardship.app.oidc import OidcError, verify_alb_identity
from stewardship.users import Role, User, UserError

if TYPE_CHECKING:
    from stewardship.app.context import AppContext

log = logging.getLogger("e360.steward")

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
MIN_SECRET_LENGTH = 32


class SignInRequired(Exception):
    """No (valid) signed-in user: pages redirect to the sign-in form."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class Forbidden(Exception):
    """Signed in, but the role (or the CSRF token) does not allow this."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def session_secret(config: E360Config) -> str:
    """The secret that signs session cookies: from the environment, or (embedded, with the
    default SQLite store) a key file created beside the store on first use."""
    settings = config.stewardship
    value = os.environ.get(settings.session_secret_env)
    if value:
        if len(value) < MIN_SECRET_LENGTH:
            raise ConfigError(
                f"{settings.session_secret_env}: the session secret needs at least "
                f"{MIN_SECRET_LENGTH} characters"
            )
        return value
    if settings.url is not None or settings.auth != "local":
        raise ConfigError(
            f"stewardship: set the environment variable {settings.session_secret_env} to a "
            "random secret (at least 32 characters) to sign the steward app's sessions"
        )
    path = config.root / "steward" / "session.key"
    return _key_file(path)


def _key_file(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # O_EXCL: two servers starting at once never overwrite each other's key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def csrf_token(request: Request) -> str:
    """The session's CSRF token (created on first use)."""
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def csrf_guard(request: Request) -> None:
    """A FastAPI dependency on every route: unsafe methods need the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get("csrf")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(str(expected), sent):
        log.warning("refused %s %s: missing or invalid CSRF token", request.method, _route(request))
        raise Forbidden(
            "This form has expired or did not come from this site (CSRF check). "
            "Reload the page and try again."
        )


def current_user(request: Request) -> User:
    """The signed-in, active user of this request (a FastAPI dependency)."""
    cached = getattr(request.state, "user", None)
    if cached is not None:
        return cached
    context: AppContext = request.app.state.context
    if context.config.stewardship.auth == "alb_oidc":
        user = _oidc_user(request, context)
    else:
        username = request.session.get("user")
        if not username:
            raise SignInRequired()
        known = context.users.get(str(username))
        if known is None or not known.active:
            request.session.pop("user", None)
            raise SignInRequired("Your account is not active any more.")
        user = known
    request.state.user = user
    return user


def _oidc_user(request: Request, context: AppContext) -> User:
    settings = context.config.stewardship
    try:
        identity = verify_alb_identity(
            request.headers.get(settings.oidc_identity_header),
            request.headers.get(settings.oidc_data_header),
            settings,
        )
    except OidcError as exc:
        log.warning("refused %s %s: %s", request.method, _route(request), exc)
        raise Forbidden(f"Sign-in through the load balancer failed: {exc}.") from None
    user = context.users.get(identity.username)
    if user is None:
        if settings.oidc_default_role == "none":
            raise Forbidden(
                "You are signed in, but not registered as a data steward yet. "
                "Ask an admin to add you."
            )
        try:
            user = context.users.add(
                identity.username, settings.oidc_default_role, None, actor="oidc"
            )
        except UserError:
            # Registered by a concurrent first request of the same user.
            user = context.users.get(identity.username)
            if user is None:
                raise
    if not user.active:
        raise Forbidden("Your account is not active any more.")
    return user


def require(role: Role) -> Callable[[Request], User]:
    """A dependency: the signed-in user, who must hold at least `role`."""

    def dependency(request: Request) -> User:
        user = current_user(request)
        if not user.can(role):
            log.info(
                "refused %s %s: role %s lacks %s", request.method, _route(request), user.role, role
            )
            raise Forbidden(f"Your role ({user.role}) does not allow this: it needs {role}.")
        return user

    return dependency


def _route(request: Request) -> str:
    """The route's template, never the concrete path or query (they may hold record ids
    and search terms)."""
    route = request.scope.get("route")
    return getattr(route, "path", "?")


class SignInThrottle:
    """Slows guessing: after `limit` failures for one name within `window` seconds, sign-in
    for that name is refused until the window passes (argon2 already makes each try slow)."""

    def __init__(self, limit: int = 5, window: float = 900.0) -> None:
        self.limit = limit
        self.window = window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def blocked(self, username: str) -> bool:
        with self._lock:
            recent = self._recent(username)
            return len(recent) >= self.limit

    def failed(self, username: str) -> None:
        with self._lock:
            self._recent(username).append(time.monotonic())

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(username.lower(), None)

    def _recent(self, username: str) -> list[float]:
        now = time.monotonic()
        key = username.lower()
        recent = [t for t in self._failures.get(key, []) if now - t < self.window]
        self._failures[key] = recent
        return recent
