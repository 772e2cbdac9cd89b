"""Rendering helpers shared by the routes: templates with the common context, flashes,
redirects, safe `next` targets."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from stewardship.app.context import AppContext
from stewardship.app.security import csrf_token


def context_of(request: Request) -> AppContext:
    return request.app.state.context


def render(
    request: Request, template: str, values: dict[str, Any] | None = None, status: int = 200
) -> Response:
    context = context_of(request)
    flashes = request.session.pop("flash", [])
    page = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "csrf": csrf_token(request),
        "flashes": flashes,
        "entities": context.entities,
        "auth_mode": context.config.stewardship.auth,
        **(values or {}),
    }
    return context.templates.TemplateResponse(request, template, page, status_code=status)


def flash(request: Request, message: str, kind: str = "info") -> None:
    request.session.setdefault("flash", [])
    request.session["flash"] = [*request.session["flash"], {"kind": kind, "message": message}]


def redirect(url: str) -> RedirectResponse:
    # 303: the browser follows a POST's answer with a GET (post/redirect/get).
    return RedirectResponse(url, status_code=303)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths: never redirect a signed-in user to another site."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target


def with_query(path: str, params: dict[str, str]) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def fmt_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def fmt_json(value: Any) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, default=str)
