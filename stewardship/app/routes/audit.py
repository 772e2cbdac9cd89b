"""The audit trail: every decision, manual change and user change; CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from stewardship.app.pages import context_of, render, with_query
from stewardship.app.security import current_user
from stewardship.store import AuditEntry, audit_rows
from stewardship.users import User

router = APIRouter()
PAGE_SIZE = 100
CSV_COLUMNS = ("id", "at", "actor", "action", "entity", "subject", "before", "after", "comment")


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
    everything = context_of(request).store.audit()
    entries = list(reversed(_entries(request, entity, action, actor)))  # newest first
    pages = max(1, -(-len(entries) // PAGE_SIZE))
    page = min(page, pages)
    params = {k: v for k, v in {"entity": entity, "action": action, "actor": actor}.items() if v}
    return render(
        request,
        "audit.html",
        {
            "entries": entries[(page - 1) * PAGE_SIZE : page * PAGE_SIZE],
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
