"""Teach the model: the candidate pairs whose labels would change the model most.

The pairs come from `matching.resolution.active_learning.select_pairs` over every candidate
pair of the current model (scored once per model and standardized snapshot, then cached);
each is decided through the decision store like any review, and `e360 train ENTITY
--from-decisions` turns the decisions into m, u and λ.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import Response

from e360.config import E360Config
from e360.entities import MasteredEntity, is_mastered
from e360.zones import standardized_table_name
from matching.resolution.active_learning import Candidate, Pick, select_pairs
from matching.resolution.blocking import as_matched
from matching.resolution.engine import duckdb_connection, register
from matching.resolution.settings import exclusive_sources
from matching.resolution.splink_adapter import DuckDBAPI
from matching.resolution.thresholds import link_threshold
from matching.resolution.trainer import scored_candidates
from matching.resolution.versions import linker_from_model, register_term_frequencies
from stewardship.app.pages import context_of, flash, redirect, render
from stewardship.app.routes.review import posted_verdict
from stewardship.app.security import current_user, require
from stewardship.explain import Explainer
from stewardship.store import DecisionConflict, StewardError, ordered
from stewardship.users import User

router = APIRouter()
log = logging.getLogger("e360.steward")
SHOWN = 20
VERDICT_LABELS = {"match": "Match", "no_match": "Not a match", "unsure": "Unsure"}


@dataclass(frozen=True)
class _Scored:
    model: str
    candidates: list[Candidate]
    threshold: float
    rules: dict[str, str]  # match_key -> the blocking rule that produced the pair


_cache: dict[tuple[int, str], tuple[tuple[str, int | None], _Scored]] = {}
_lock = threading.Lock()


def _scored(config: E360Config, explainer: Explainer, entity: MasteredEntity) -> _Scored:
    """Every candidate pair of the entity's current model, scored (cached per model and
    standardized snapshot: scoring them all takes a moment)."""
    model = explainer.model_for(entity)
    if model is None:
        raise HTTPException(
            409, f"no trained {entity} model yet: run `e360 run` (or `e360 match`) first"
        )
    lake = explainer.lake
    key = (
        str(model.path),
        lake.current_snapshot_id("standardized", standardized_table_name(entity)),
    )
    with _lock:
        hit = _cache.get((id(config), entity))
        if hit is not None and hit[0] == key:
            return hit[1]
        records = lake.read("standardized", standardized_table_name(entity))
        if records is None or records.num_rows < 2:
            raise HTTPException(409, f"standardized.{entity} has fewer than two records")
        # The engine's memory limit and spill folder: it scores every candidate pair.
        con = duckdb_connection(config.deployment.engine, config.root)
        try:
            backend = DuckDBAPI(con)
            matching = config.entities[entity].matching
            table = register(backend, as_matched(records, entity, matching), f"{entity}_records")
            linker = linker_from_model(table, model, matching, exclusive_sources(config, entity))
            register_term_frequencies(linker, model)
            candidates = scored_candidates(linker, table)
        finally:
            con.close()
        threshold = link_threshold(
            config.entities[entity].matching.threshold,
            [c.match_probability for c in candidates],
        ).value
        scored = _Scored(model.label, candidates, threshold, _rules(model.path))
        _cache[(id(config), entity)] = (key, scored)
        return scored


def _rules(path: Path) -> dict[str, str]:
    rules = json.loads(path.read_text()).get("blocking_rules_to_generate_predictions", [])
    return {
        str(i): str(rule.get("blocking_rule", rule)) if isinstance(rule, dict) else str(rule)
        for i, rule in enumerate(rules)
    }


def _entity(request: Request, entity: str) -> MasteredEntity:
    if entity not in context_of(request).entities or not is_mastered(entity):
        raise HTTPException(404, f"unknown entity '{entity}'")
    return entity


def _picks(request: Request, entity: MasteredEntity) -> tuple[_Scored, list[Pick], int]:
    """The pairs to show, and how many pairs stewards have labelled."""
    context = context_of(request)
    scored = _scored(context.config, context.explainer, entity)
    view = context.lake.entity(entity)
    decided = [(d.record_l, d.record_r) for d in context.store.pair_decisions(entity)]
    current = [
        c for c in scored.candidates if c.record_l in view.records and c.record_r in view.records
    ]
    picks = select_pairs(current, scored.threshold, SHOWN, exclude=decided)
    labelled = sum(1 for d in context.store.pair_decisions(entity) if d.verdict != "unsure")
    return scored, picks, labelled


@router.get("/teach/{entity}")
def teach(request: Request, entity: str, user: Annotated[User, Depends(current_user)]) -> Response:
    entity = _entity(request, entity)
    scored, picks, labelled = _picks(request, entity)
    view = context_of(request).lake.entity(entity)
    rows = [
        {
            "record_l": p.candidate.record_l,
            "record_r": p.candidate.record_r,
            "label_l": view.label(p.candidate.record_l),
            "label_r": view.label(p.candidate.record_r),
            "probability": p.candidate.match_probability,
            "uncertainty": p.uncertainty,
            "disagreement": p.disagreement,
            "covers_band": p.covers_band,
            "rule": scored.rules.get(p.candidate.match_key, p.candidate.match_key),
        }
        for p in picks
    ]
    return render(
        request,
        "teach.html",
        {
            "entity": entity,
            "rows": rows,
            "model": scored.model,
            "threshold": scored.threshold,
            "candidates": len(scored.candidates),
            "labelled": labelled,
            "verdicts": VERDICT_LABELS,
            "can_decide": user.can("steward"),
        },
    )


@router.post("/teach/{entity}/decide")
def teach_decide(
    request: Request,
    entity: str,
    user: Annotated[User, Depends(require("steward"))],
    record_l: Annotated[str, Form(min_length=1, max_length=512)],
    record_r: Annotated[str, Form(min_length=1, max_length=512)],
    verdict: Annotated[str, Form()],
) -> Response:
    entity = _entity(request, entity)
    context = context_of(request)
    known = posted_verdict(context, entity, record_l, record_r, verdict)
    try:
        record_l, record_r = ordered(record_l, record_r)
        context.store.decide_pair(
            entity, record_l, record_r, known, user.username, expected_version=0
        )
    except DecisionConflict:
        # Someone labelled it meanwhile: their label stands, the pair leaves this list.
        flash(request, f"{record_l} / {record_r} was decided by someone else meanwhile.", "error")
        return redirect(f"/teach/{entity}")
    except StewardError as exc:
        raise HTTPException(400, str(exc)) from None
    log.info("%s pair taught (%s)", entity, verdict)
    flash(
        request,
        f"Saved: {VERDICT_LABELS[known]} for {record_l} / {record_r}. "
        f"`e360 train {entity} --from-decisions` teaches the model.",
        "success",
    )
    return redirect(f"/teach/{entity}")
