"""A master: members, golden record with provenance, id history; manual merge and split."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request
from fastapi.responses import Response

from stewardship.app.master_search import SEARCH
from stewardship.app.pages import context_of, flash, redirect, render, safe_next
from stewardship.app.security import current_user, require
from stewardship.store import Contradicted, MasterChange, StewardError
from stewardship.users import User

router = APIRouter()
log = logging.getLogger("e360.steward")


def _entity(request: Request, entity: str) -> str:
    if entity not in context_of(request).entities:
        raise HTTPException(404, f"unknown entity '{entity}'")
    return entity


@router.get("/masters/{entity}")
def find_master(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(current_user)],
    q: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    """Go to a master by its id or by one of its member record ids; else search them."""
    entity = _entity(request, entity)
    view = context_of(request).lake.entity(entity)
    q = q.strip()
    if q in view.members or q in view.golden:
        return redirect(f"/masters/{entity}/{q}")
    if q in view.masters:
        return redirect(f"/masters/{entity}/{view.masters[q]}")
    found = SEARCH.index(view).search(q) if q else None
    return render(
        request,
        "find_master.html",
        {"entity": entity, "q": q, "masters": len(view.members), "found": found},
    )


@router.get("/masters/{entity}/{master_id}/merge")
def merge_candidates(
    request: Request,
    entity: str,
    master_id: str,
    user: Annotated[User, Depends(require("steward"))],
    q: Annotated[str, Query(max_length=512)] = "",
) -> Response:
    """Masters to merge this one with, found by name, e-mail, master id or source key."""
    entity = _entity(request, entity)
    view = context_of(request).lake.entity(entity)
    if not view.members.get(master_id):
        raise HTTPException(404, f"no {entity} master '{master_id}' with members")
    q = q.strip()
    found = SEARCH.index(view).search(q, exclude=master_id) if q else None
    return render(
        request,
        "merge_with.html",
        {
            "entity": entity,
            "master_id": master_id,
            "this": SEARCH.index(view).hit(master_id),
            "q": q,
            "found": found,
            "view": view,
        },
    )


def _changes_for(
    changes: list[MasterChange], master_id: str, members: set[str]
) -> list[MasterChange]:
    return [
        c
        for c in changes
        if master_id in c.master_ids or members & set(c.records) or members & set(c.remaining)
    ]


@router.get("/masters/{entity}/{master_id}")
def master(
    request: Request,
    entity: str,
    master_id: str,
    user: Annotated[User, Depends(current_user)],
) -> Response:
    entity = _entity(request, entity)
    context = context_of(request)
    view = context.lake.entity(entity)
    history = context.lake.id_history(entity, master_id)
    members = view.members.get(master_id, [])
    if not members and not history:
        raise HTTPException(404, f"no {entity} master '{master_id}'")
    golden = view.golden.get(master_id)
    provenance: dict[str, Any] = {}
    if golden and golden.get("provenance"):
        provenance = json.loads(golden["provenance"])
    changes = _changes_for(context.store.master_changes(entity), master_id, set(members))
    successor = next(
        (
            h["related_master_id"]
            for h in reversed(history)
            if h["master_id"] == master_id and h["event"] == "merged_into"
        ),
        None,
    )
    return render(
        request,
        "master.html",
        {
            "entity": entity,
            "master_id": master_id,
            "members": members,
            "view": view,
            "golden": golden,
            "provenance": provenance,
            "history": history,
            "changes": changes,
            "applications": context.store.applications(entity),
            "successor": successor,
            "can_change": user.can("steward"),
        },
    )


def _check_current(request: Request, entity: str, seen_run: str) -> None:
    """Refuse a change made on a page the run has since replaced (members may have moved)."""
    current = context_of(request).lake.entity(entity).xref_run_id or ""
    if seen_run != current:
        raise StewardError(
            "a run has rewritten the masters since you opened this page; "
            "reload it and check the members again"
        )


@router.post("/masters/{entity}/{master_id}/merge")
def merge(
    request: Request,
    entity: str,
    master_id: str,
    user: Annotated[User, Depends(require("steward"))],
    other_master_id: Annotated[str, Form(min_length=1, max_length=64)],
    reason: Annotated[str, Form(max_length=2000)],
    seen_run: Annotated[str, Form()] = "",
    override: Annotated[str, Form()] = "",
) -> Response:
    entity = _entity(request, entity)
    context = context_of(request)
    view = context.lake.entity(entity)
    other = other_master_id.strip()
    try:
        _check_current(request, entity, seen_run)
        if other == master_id:
            raise StewardError("choose another master to merge with")
        for mid in (master_id, other):
            if not view.members.get(mid):
                raise StewardError(f"{entity} master '{mid}' has no members in the current run")
        change = context.store.merge_masters(
            entity,
            {master_id: view.members[master_id], other: view.members[other]},
            user.username,
            reason,
            override=override == "1",
        )
    except Contradicted as exc:
        fields = {"other_master_id": other, "reason": reason, "seen_run": seen_run}
        return _contradicted(request, entity, master_id, "merge", exc, fields)
    except StewardError as exc:
        flash(request, f"Not merged: {exc}.", "error")
        return redirect(f"/masters/{entity}/{master_id}")
    log.info("%s masters merged (change %s)", entity, change.id)
    flash(
        request,
        f"Merge of {master_id} and {other} recorded (change {change.id}); the next run applies it.",
        "success",
    )
    return redirect(f"/masters/{entity}/{master_id}")


@router.post("/masters/{entity}/{master_id}/split")
def split(
    request: Request,
    entity: str,
    master_id: str,
    user: Annotated[User, Depends(require("steward"))],
    reason: Annotated[str, Form(max_length=2000)],
    records: Annotated[list[str] | None, Form()] = None,
    seen_run: Annotated[str, Form()] = "",
    override: Annotated[str, Form()] = "",
) -> Response:
    entity = _entity(request, entity)
    context = context_of(request)
    members = context.lake.entity(entity).members.get(master_id, [])
    chosen = sorted(set(records or []))
    try:
        _check_current(request, entity, seen_run)
        strangers = [r for r in chosen if r not in members]
        if strangers:
            raise StewardError(f"{strangers} are not members of {master_id}")
        change = context.store.split_master(
            entity,
            master_id,
            chosen,
            [m for m in members if m not in chosen],
            user.username,
            reason,
            override=override == "1",
        )
    except Contradicted as exc:
        fields = {"records": chosen, "reason": reason, "seen_run": seen_run}
        return _contradicted(request, entity, master_id, "split", exc, fields)
    except StewardError as exc:
        flash(request, f"Not split: {exc}.", "error")
        return redirect(f"/masters/{entity}/{master_id}")
    log.info("%s master split (change %s)", entity, change.id)
    flash(
        request,
        f"Split of {len(chosen)} record(s) out of {master_id} recorded (change {change.id}); "
        "the next run applies it.",
        "success",
    )
    return redirect(f"/masters/{entity}/{master_id}")


def _contradicted(
    request: Request,
    entity: str,
    master_id: str,
    kind: str,
    exc: Contradicted,
    fields: dict[str, Any],
) -> Response:
    """Nothing recorded: the decisions the change contradicts, and the override that
    would revoke them."""
    log.info("%s %s refused: it contradicts %d decision(s)", entity, kind, len(exc.standing))
    values = {
        "entity": entity,
        "master_id": master_id,
        "kind": kind,
        "standing": exc.standing,
        "fields": fields,
    }
    return render(request, "contradiction.html", values, status=409)


@router.post("/changes/{change_id}/revoke")
def revoke(
    request: Request,
    change_id: int,
    user: Annotated[User, Depends(require("steward"))],
    reason: Annotated[str, Form(min_length=1, max_length=2000)],
    back: Annotated[str, Form()] = "/",
) -> Response:
    try:
        context_of(request).store.revoke_change(change_id, user.username, reason)
        flash(request, f"Change {change_id} revoked; the next run no longer applies it.", "success")
    except StewardError as exc:
        flash(request, f"Not revoked: {exc}.", "error")
    return redirect(safe_next(back))
