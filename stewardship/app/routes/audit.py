"""The audit trail: every decision, manual change and user change; CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from stewardship.app.pages import context_of, render, with_query
from stewardship.app.security import current_user
from stewardship.store import AuditEntry, MasterChange, audit_rows
from stewardship.users import User

router = APIRouter()
PAGE_SIZE = 100
CSV_COLUMNS = ("id", "at", "actor", "action", "entity", "subject", "before", "after", "comment")


VERDICTS = {"match": "match", "no_match": "not a match", "unsure": "unsure"}


def readable(value: Any) -> str:
    """A before or after value as a steward reads it (not JSON)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(readable(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {readable(v)}" for k, v in sorted(value.items()))
    return str(value).replace("T", " ") if _looks_like_time(value) else str(value)


def _looks_like_time(value: Any) -> bool:
    text = str(value)
    return len(text) == 19 and text[4] == "-" and text[10] == "T"


def diff(entry: AuditEntry) -> list[tuple[str, str, str]]:
    """(field, before, after) for each field the entry changed, in the order first seen."""
    before, after = entry.before or {}, entry.after or {}
    fields = list(before) + [k for k in after if k not in before]

    def shown(name: str, value: Any) -> str:
        return (VERDICTS.get(value) if name == "verdict" else None) or readable(value)

    return [
        (name.replace("_", " "), shown(name, before.get(name)), shown(name, after.get(name)))
        for name in fields
        if before.get(name) != after.get(name) or not (before and after)
    ]


def subject_links(
    entry: AuditEntry, changes: dict[int, MasterChange], admin: bool
) -> list[tuple[str, str | None]]:
    """The entry's subject as (text, link) parts: pairs open their review, masters and
    changes their master page, users the user list (for admins)."""
    entity, subject = entry.entity, entry.subject
    if entity and " | " in subject:
        left, right = subject.split(" | ", 1)
        return [(f"{left} / {right}", with_query(f"/review/{entity}", {"l": left, "r": right}))]
    if entity and entry.action in ("merge_masters", "split_master"):
        return [(m, f"/masters/{entity}/{m}") for m in subject.split(", ")]
    if subject.startswith("change ") and subject[7:].isdigit():
        change = changes.get(int(subject[7:]))
        if change is not None and change.master_ids:
            return [(subject, f"/masters/{change.entity}/{change.master_ids[0]}")]
    if entity is None and admin:
        return [(subject, "/admin/users")]
    return [(subject, None)]


def _entries(request: Request, entity: str, action: str, actor: str) -> list[AuditEntry]:
    entries = context_of(request).store.audit(entity or None)
    return [
        e for e in entries if (not action or e.action == action) and (not actor or e.actor == actor)
    ]


@router.get("/audit")
def audit(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    entity: Annotated[str, Query(max_length=32)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=256)] = "",
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    store = context_of(request).store
    everything = store.audit()
    changes = {c.id: c for c in store.master_changes()}
    entries = list(reversed(_entries(request, entity, action, actor)))  # newest first
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(page, pages)
    params = {k: v for k, v in {"entity": entity, "action": action, "actor": actor}.items() if v}
    return render(
        request,
        "audit.html",
        {
            "entries": [
                (e, diff(e), subject_links(e, changes, user.can("admin")))
                for e in entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
            ],
            "count": len(entries),
            "page": page,
            "pages": pages,
            "filters": params,
            "actions": sorted({e.action for e in everything}),
            "actors": sorted({e.actor for e in everything}),
            "csv_url": with_query("/audit.csv", params),
            "with_query": with_query,
        },
    )


def _cell(value: str) -> str:
    # A spreadsheet runs a cell starting with = + - @ as a formula: comments are free text.
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


@router.get("/audit.csv")
def audit_csv(
    request: Request,
    user: Annotated[User, Depends(current_user)],
    entity: Annotated[str, Query(max_length=32)] = "",
    action: Annotated[str, Query(max_length=64)] = "",
    actor: Annotated[str, Query(max_length=256)] = "",
) -> Response:
    entries = _entries(request, entity, action, actor)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        for row in audit_rows(entries):
            writer.writerow({k: _cell(v) for k, v in row.items()})
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="e360-audit-{stamp}.csv"'},
    )
