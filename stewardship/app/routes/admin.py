"""User management: admins only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import Response

from stewardship.app.pages import context_of, flash, redirect, render
from stewardship.app.security import require
from stewardship.users import ROLES, User, UserError

router = APIRouter()


@router.get("/admin/users")
def users(request: Request, user: Annotated[User, Depends(require("admin"))]) -> Response:
    return render(
        request, "users.html", {"users": context_of(request).users.list(), "roles": ROLES}
    )


@router.post("/admin/users")
def add_user(
    request: Request,
    user: Annotated[User, Depends(require("admin"))],
    username: Annotated[str, Form(max_length=128)],
    role: Annotated[str, Form()],
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    try:
        # No password: an identity that signs in through OIDC only.
        context_of(request).users.add(username.strip(), role, password or None, actor=user.username)
        flash(request, f"User {username.strip()} added as {role}.", "success")
    except UserError as exc:
        flash(request, f"Not added: {exc}.", "error")
    return redirect("/admin/users")


@router.post("/admin/users/{username}")
def change_user(
    request: Request,
    username: str,
    user: Annotated[User, Depends(require("admin"))],
    role: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    users_store = context_of(request).users
    try:
        target = users_store.get(username)
        if target is None:
            raise UserError(f"no user '{username}'")
        losing_admin = (
            target.role == "admin"
            and target.active
            and ((role and role != "admin") or active == "no")
        )
        if losing_admin and users_store.count_admins() <= 1:
            raise UserError("the last active admin cannot be demoted or deactivated")
        if role and role != target.role:
            users_store.set_role(username, role, actor=user.username)
        if active in ("yes", "no") and (active == "yes") != target.active:
            users_store.set_active(username, active == "yes", actor=user.username)
        if password:
            users_store.set_password(username, password, actor=user.username)
        flash(request, f"User {username} updated.", "success")
    except UserError as exc:
        flash(request, f"Not changed: {exc}.", "error")
    return redirect("/admin/users")
