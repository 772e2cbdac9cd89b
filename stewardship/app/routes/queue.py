"""Queue work beyond one pair: a skip that sticks, and groups of pairs that share records
(a household, a family of variants) decided together. The queue page itself and the review
of one pair are in `review.py`."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response

from stewardship.app.pages import context_of, flash, redirect, render, with_query
from stewardship.app.queue import QueueFilter, apply_filter, next_open
from stewardship.app.routes.review import (
    VERDICT_LABELS,
    entity_rows,
    known_entity,
    queue_filter,
)
from stewardship.app.security import current_user, require
from stewardship.store import VERDICTS, DecisionConflict, StewardError, ordered
from stewardship.users import User

router = APIRouter()
log = logging.getLogger("e360.steward")


@router.post("/review/{entity}/skip")
def skip(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(require("steward"))],
    spec: Annotated[QueueFilter, Depends(queue_filter)],
    record_l: Annotated[str, Form(min_length=1, max_length=512)],
    record_r: Annotated[str, Form(min_length=1, max_length=512)],
    undo: Annotated[str, Form()] = "",
) -> Response:
    entity = known_entity(request, entity)
    try:
        key = ordered(record_l, record_r)
    except StewardError as exc:
        raise HTTPException(400, str(exc)) from None
    assignments = context_of(request).assignments
    if undo:
        assignments.unskip(entity, key, user.username)
        flash(request, f"{key[0]} / {key[1]} is back in your queue.")
        return redirect(
            with_query(f"/review/{entity}", {**spec.params(), "l": key[0], "r": key[1]})
        )
    assignments.skip(entity, key, user.username)
    # Someone else's assignment is theirs to keep; my own goes back to the queue.
    assignments.release(entity, user.username, [key])
    flash(request, f"Skipped {key[0]} / {key[1]}: you will not be served it again.")
    _, rows = entity_rows(request, entity, user)
    following = next_open(apply_filter(rows, spec, user.username), user.username, after=key)
    if following is None:
        flash(request, "Nothing left to review with this filter.")
        return redirect(with_query(f"/queue/{entity}", spec.params()))
    return redirect(
        with_query(
            f"/review/{entity}", {**spec.params(), "l": following.record_l, "r": following.record_r}
        )
    )


@router.get("/queue/{entity}/group")
def group(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(current_user)],
    spec: Annotated[QueueFilter, Depends(queue_filter)],
    record: Annotated[str, Query(min_length=1, max_length=512)],
) -> Response:
    entity = known_entity(request, entity)
    view, rows = entity_rows(request, entity, user)
    root = next((r.group for r in rows if record in r.key and r.group), None)
    if root is None:
        raise HTTPException(404, f"{entity} record {record} shares no queued pair with another")
    members = sorted(
        [r for r in rows if r.group == root], key=lambda r: (-r.match_probability, r.key)
    )
    records = sorted({x for r in members for x in r.key})
    return render(
        request,
        "group.html",
        {
            "entity": entity,
            "root": root,
            "rows": members,
            "records": records,
            "view": view,
            "spec": spec,
            "verdicts": VERDICTS,
            "verdict_labels": VERDICT_LABELS,
            "can_decide": user.can("steward"),
        },
    )


@router.post("/queue/{entity}/group/decide")
def decide_group(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(require("steward"))],
    spec: Annotated[QueueFilter, Depends(queue_filter)],
    root: Annotated[str, Form(min_length=1, max_length=512)],
    verdict: Annotated[str, Form()],
    pairs: Annotated[list[str] | None, Form()] = None,
    comment: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """One verdict for the checked pairs; each keeps its own optimistic lock (`l|r|version`),
    so a pair someone decided meanwhile is left as they decided it and named."""
    entity = known_entity(request, entity)
    known = next((v for v in VERDICTS if v == verdict), None)
    if known is None:
        raise HTTPException(400, f"unknown verdict '{verdict}'")
    context = context_of(request)
    _, rows = entity_rows(request, entity, user)
    in_group = {r.key for r in rows if r.group == root}
    back = with_query(f"/queue/{entity}/group", {**spec.params(), "record": root})
    saved: list[tuple[str, str]] = []
    conflicts: list[str] = []
    for value in pairs or []:
        parts = value.split("|")
        if len(parts) != 3 or not parts[2].isdigit():
            raise HTTPException(400, f"a group pair is record|record|version, not '{value}'")
        key = ordered(parts[0], parts[1])
        if key not in in_group:
            raise HTTPException(400, f"{entity} pair {key[0]} / {key[1]} is not in this group")
        try:
            context.store.decide_pair(
                entity,
                *key,
                known,
                user.username,
                comment=comment.strip() or None,
                expected_version=int(parts[2]),
            )
        except DecisionConflict:
            conflicts.append(f"{key[0]} / {key[1]}")
            continue
        saved.append(key)
    context.assignments.release(entity, user.username, saved)
    if not saved and not conflicts:
        flash(request, "Check the pairs to decide first.", "error")
        return redirect(back)
    log.info("%s group decided (%s, %d pairs)", entity, known, len(saved))
    flash(
        request,
        f"Saved: {VERDICT_LABELS[known]} for {len(saved)} pair(s). It takes effect in the next run.",
        "success",
    )
    if conflicts:
        flash(
            request,
            f"Not saved, decided by someone else meanwhile: {', '.join(conflicts)}.",
            "error",
        )
    return redirect(back)
