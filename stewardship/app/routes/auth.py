"""Sign-in and sign-out (local users; behind the ALB the load balancer signs users in)."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from stewardship.app.pages import context_of, flash, redirect, render, safe_next

router = APIRouter()
log = logging.getLogger("e360.steward")
ANONYMOUS = "(not signed in)"


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    context = context_of(request)
    if context.config.stewardship.auth != "local":
        return redirect("/")
    return render(request, "login.html", {"next": safe_next(next, "/")})


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form()] = "/",
) -> Response:
    context = context_of(request)
    if context.config.stewardship.auth != "local":
        return redirect("/")
    username = username.strip()
    client = request.client.host if request.client else None
    if context.throttle.blocked(username):
        log.warning("sign-in refused: too many failures")
        context.store.record_audit(
            ANONYMOUS,
            "sign_in_refused",
            username,
            after={"client": client},
            comment="locked out after too many failed sign-ins",
        )
        return render(
            request,
            "login.html",
            {
                "error": "Too many failed sign-ins. Wait a few minutes and try again.",
                "next": safe_next(next),
            },
            status=429,
        )
    user = context.users.authenticate(username, password)
    if user is None:
        context.throttle.failed(username)
        log.info("sign-in failed")
        # Who signed in is unknown: the name typed is the subject, never the actor.
        context.store.record_audit(
            ANONYMOUS,
            "sign_in_failed",
            username,
            after={"client": client},
            comment="wrong user name or password",
        )
        if context.throttle.blocked(username):
            throttle = context.throttle
            context.store.record_audit(
                ANONYMOUS,
                "lockout",
                username,
                after={"client": client, "minutes": round(throttle.window / 60)},
                comment=f"{throttle.limit} failed sign-ins: refused for "
                f"{round(throttle.window / 60)} minutes",
            )
        return render(
            request,
            "login.html",
            {
                "error": "Wrong user name or password.",
                "next": safe_next(next),
                "username": username,
            },
            status=401,
        )
    context.throttle.succeeded(username)
    # A fresh session (and CSRF token) on sign-in: a token planted before sign-in is void.
    request.session.clear()
    request.session["user"] = user.username
    request.session["csrf"] = secrets.token_urlsafe(32)
    context.store.record_audit(user.username, "sign_in", user.username)
    log.info("sign-in succeeded (role %s)", user.role)
    flash(request, f"Signed in as {user.username} ({user.role}).")
    return redirect(safe_next(next))


@router.post("/logout")
def logout(request: Request) -> Response:
    request.session.clear()
    return redirect("/login")
