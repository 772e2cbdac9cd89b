"""The review queue and the review of one pair: side by side, waterfall, decision."""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response

from stewardship.app.charts import waterfall_chart
from stewardship.app.context import AppContext
from stewardship.app.lakeview import EntityView
from stewardship.app.pages import context_of, flash, redirect, render, with_query
from stewardship.app.queue import (
    ASSIGNEES,
    PAGE_SIZES,
    SORTS,
    STATUSES,
    Page,
    QueueFilter,
    QueueRow,
    QueueState,
    apply_filter,
    next_open,
    queue_rows,
    source_of,
)
from stewardship.app.security import current_user, require
from stewardship.explain import ExplainError
from stewardship.store import VERDICTS, DecisionConflict, PairVerdict, StewardError, ordered
from stewardship.users import User

router = APIRouter()
log = logging.getLogger("e360.steward")
PAGE_SIZE = 50
VERDICT_LABELS = {"match": "Match", "no_match": "Not a match", "unsure": "Unsure"}


def known_entity(request: Request, entity: str) -> str:
    if entity not in context_of(request).entities:
        raise HTTPException(404, f"unknown entity '{entity}'")
    return entity


def posted_verdict(
    context: AppContext, entity: str, record_l: str, record_r: str, verdict: str
) -> PairVerdict:
    """The verdict of a posted pair decision, once both records are known to the lake."""
    known = next((v for v in VERDICTS if v == verdict), None)
    if known is None:
        raise HTTPException(400, f"unknown verdict '{verdict}'")
    view = context.lake.entity(entity)
    if record_l not in view.records or record_r not in view.records:
        raise HTTPException(404, f"no {entity} pair {record_l} / {record_r} in the lake")
    return known


def queue_filter(
    sort: str | None = None,
    order: str | None = None,
    status: str | None = None,
    assignee: str | None = None,
    source: str | None = None,
    q: str | None = None,
    size: str | None = None,
    grouped: str | None = None,
) -> QueueFilter:
    return QueueFilter.parse(sort, order, status, assignee, source, q, size, grouped)


def entity_rows(
    request: Request, entity: str, user: User | None = None
) -> tuple[EntityView, list[QueueRow]]:
    context = context_of(request)
    view = context.lake.entity(entity)
    user = user or getattr(request.state, "user", None)
    state = QueueState(
        decisions={(d.record_l, d.record_r): d for d in context.store.pair_decisions(entity)},
        assignments=context.assignments.of_entity(entity),
        changes=context.store.master_changes(entity),
        applications=context.store.applications(entity),
        skipped=context.assignments.skipped(entity, user.username) if user else set(),
    )
    return view, queue_rows(view, state)


@router.get("/")
def home(request: Request, user: Annotated[User, Depends(current_user)]) -> Response:
    return redirect(f"/queue/{context_of(request).entities[0]}")


@router.get("/queue/{entity}")
def queue(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(current_user)],
    spec: Annotated[QueueFilter, Depends(queue_filter)],
    page: Annotated[int, Query(ge=1)] = 1,
) -> Response:
    entity = known_entity(request, entity)
    view, rows = entity_rows(request, entity, user)
    selected = apply_filter(rows, spec, user.username)
    shown = Page.of(selected, page, spec.size)
    sources = sorted({r.source_l for r in rows} | {r.source_r for r in rows})
    first = next_open(selected, user.username)
    states = [r.state for r in rows]
    return render(
        request,
        "queue.html",
        {
            "entity": entity,
            "rows": shown.rows,
            "listing": shown,
            "shown": len(selected),
            "total": len(rows),
            "left": states.count("open"),
            "unsure": states.count("unsure"),
            "decided": states.count("decided"),
            "settled": states.count("settled"),
            "skipped": sum(1 for r in rows if r.open and r.skipped),
            "mine": sum(1 for r in rows if r.open and r.assignee == user.username),
            "applied": sum(1 for r in rows if r.applied),
            "partly": sum(1 for r in rows if r.partly),
            "pending": sum(1 for r in rows if r.state == "decided" and not r.run_applied),
            "spec": spec,
            "sorts": SORTS,
            "statuses": STATUSES,
            "assignees": ASSIGNEES,
            "page_sizes": PAGE_SIZES,
            "sources": sources,
            "page": shown.page,
            "pages": shown.pages,
            "first": first,
            "run_id": view.xref_run_id,
            "with_query": with_query,
            "verdict_labels": VERDICT_LABELS,
        },
    )


@router.post("/queue/{entity}/assign")
def assign(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(require("steward"))],
    spec: Annotated[QueueFilter, Depends(queue_filter)],
    count: Annotated[int, Form(ge=1, le=500)] = 20,
) -> Response:
    entity = known_entity(request, entity)
    _, rows = entity_rows(request, entity)
    free = [r for r in apply_filter(rows, spec, user.username) if r.open and r.assignee is None]
    taken = context_of(request).assignments.assign(
        entity, [(r.record_l, r.record_r) for r in free[:count]], user.username
    )
    flash(request, f"{taken} pairs assigned to you.")
    return redirect(with_query(f"/queue/{entity}", spec.params(assignee="me")))


@router.post("/queue/{entity}/release")
def release(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(require("steward"))],
) -> Response:
    entity = known_entity(request, entity)
    released = context_of(request).assignments.release(entity, user.username)
    flash(request, f"{released} pairs released back to the queue.")
    return redirect(f"/queue/{entity}")


def _review_values(
    request: Request, entity: str, record_l: str, record_r: str, spec: QueueFilter, user: User
) -> dict[str, Any]:
    context = context_of(request)
    view, rows = entity_rows(request, entity)
    if record_l not in view.records or record_r not in view.records:
        raise HTTPException(404, f"no {entity} pair {record_l} / {record_r} in the lake")
    left, right = view.records[record_l], view.records[record_r]
    attributes = [
        {
            "name": name,
            "left": left.get(name),
            "right": right.get(name),
            "state": _compare(left.get(name), right.get(name)),
        }
        for name in view.attributes
    ]
    master_l, master_r = view.masters.get(record_l), view.masters.get(record_r)
    queued = next((r for r in rows if (r.record_l, r.record_r) == (record_l, record_r)), None)
    scored = None
    if queued is None:
        scored = next(
            (
                p
                for p in context.lake.pairs_of(entity, {record_l})
                if ordered(p["record_id_l"], p["record_id_r"]) == (record_l, record_r)
            ),
            None,
        )
    try:
        waterfall = context.explainer.waterfall(entity, record_l, record_r)
        waterfall_error = None
    except ExplainError as exc:
        waterfall, waterfall_error = None, str(exc)
    decision = context.store.pair_decision(entity, record_l, record_r)
    history = [e for e in context.store.audit(entity) if e.subject == f"{record_l} | {record_r}"]
    selected = apply_filter(rows, spec, user.username)
    position = next(
        (i for i, r in enumerate(selected) if (r.record_l, r.record_r) == (record_l, record_r)),
        None,
    )
    previous_row = selected[position - 1] if position else None
    following = (
        selected[position + 1] if position is not None and position + 1 < len(selected) else None
    )
    return {
        "entity": entity,
        "record_l": record_l,
        "record_r": record_r,
        "left": left,
        "right": right,
        "label_l": view.label(record_l),
        "label_r": view.label(record_r),
        "source_l": source_of(record_l),
        "source_r": source_of(record_r),
        "attributes": attributes,
        "master_l": master_l,
        "master_r": master_r,
        "golden_l": view.golden.get(master_l or ""),
        "golden_r": view.golden.get(master_r or ""),
        "others_l": [
            m for m in view.members.get(master_l or "", []) if m not in (record_l, record_r)
        ],
        "others_r": [
            m for m in view.members.get(master_r or "", []) if m not in (record_l, record_r)
        ]
        if master_r != master_l
        else [],
        "view": view,
        "queued": queued,
        "scored": scored,
        "waterfall": waterfall,
        "chart": waterfall_chart(waterfall) if waterfall else None,
        "waterfall_error": waterfall_error,
        "decision": decision,
        "version": decision.version if decision else 0,
        "application": context.store.applications(entity).get(("pair", decision.id))
        if decision is not None and decision.applied_run_id
        else None,
        "history": history,
        "spec": spec,
        "position": position,
        "shown": len(selected),
        "previous": previous_row,
        "following": following,
        "verdicts": VERDICTS,
        "verdict_labels": VERDICT_LABELS,
        "with_query": with_query,
        "can_decide": user.can("steward"),
    }


def _compare(a: object, b: object) -> str:
    """How two values compare, for highlighting: same, differs, missing (one side) or empty."""
    blank_a, blank_b = a in (None, ""), b in (None, "")
    if blank_a and blank_b:
        return "empty"
    if blank_a or blank_b:
        return "missing"
    return "same" if str(a).casefold() == str(b).casefold() else "differs"


@router.get("/review/{entity}")
def review(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(current_user)],
    spec: Annotated[QueueFilter, Depends(queue_filter)],
    l: Annotated[str, Query(min_length=1, max_length=512)],  # noqa: E741
    r: Annotated[str, Query(min_length=1, max_length=512)],
) -> Response:
    entity = known_entity(request, entity)
    try:
        record_l, record_r = ordered(l, r)
    except StewardError as exc:
        raise HTTPException(400, str(exc)) from None
    return render(
        request, "review.html", _review_values(request, entity, record_l, record_r, spec, user)
    )


@router.post("/review/{entity}/decide")
def decide(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(require("steward"))],
    spec: Annotated[QueueFilter, Depends(queue_filter)],
    record_l: Annotated[str, Form(min_length=1, max_length=512)],
    record_r: Annotated[str, Form(min_length=1, max_length=512)],
    verdict: Annotated[str, Form()],
    expected_version: Annotated[int, Form(ge=0)],
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    entity = known_entity(request, entity)
    context = context_of(request)
    known = posted_verdict(context, entity, record_l, record_r, verdict)
    try:
        decision = context.store.decide_pair(
            entity,
            record_l,
            record_r,
            known,
            user.username,
            comment=comment.strip() or None,
            expected_version=expected_version,
        )
    except DecisionConflict:
        log.info("decision conflict on a %s pair", entity)
        values = _review_values(request, entity, *ordered(record_l, record_r), spec, user)
        values["conflict"] = {"verdict": verdict, "comment": comment}
        return render(request, "review.html", values, status=409)
    log.info("%s pair decided (%s)", entity, verdict)
    key = (decision.record_l, decision.record_r)
    context.assignments.release(entity, user.username, [key])
    flash(
        request,
        f"Saved: {VERDICT_LABELS[verdict]} for {decision.record_l} / {decision.record_r}. "
        "It takes effect in the next run.",
        "success",
    )
    _, rows = entity_rows(request, entity)
    following = next_open(apply_filter(rows, spec, user.username), user.username, after=key)
    if following is None:
        flash(request, "Nothing left to review with this filter.")
        return redirect(with_query(f"/queue/{entity}", spec.params()))
    return redirect(
        with_query(
            f"/review/{entity}", {**spec.params(), "l": following.record_l, "r": following.record_r}
        )
    )
