"""Why the model scored a pair so: the match-weight waterfall, from the model that scored it.

The prior (λ as a match weight) plus one partial weight per comparison (and per
term-frequency adjustment) add up to the pair's final match weight. The model is the version
recorded with the stored pairs (`e360.model` on master.<entity>_pairs), else the one a run
would select; its frozen term frequencies are used, never ones recomputed from today's data,
so the waterfall ends on the very probability the pipeline stored. A linker is built once
per (model version, standardized snapshot) on an in-memory DuckDB and reused; scoring one
pair afterwards is a single small query.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from e360.config import E360Config
from e360.entities import MasteredEntity, is_mastered
from e360.errors import E360Error
from e360.lake import Lake
from e360.zones import master_table_name, standardized_table_name
from matching.resolution.engine import duckdb_connection, register
from matching.resolution.level_names import PlainComparison, column_name, plain_comparisons
from matching.resolution.settings import UNIQUE_ID, exclusive_sources
from matching.resolution.splink_adapter import DuckDBAPI, Linker, linker_backend, waterfall_data
from matching.resolution.versions import (
    ModelVersion,
    linker_from_model,
    list_models,
    register_term_frequencies,
    select_model,
)

MODEL_PROPERTY = "e360.model"  # set on every master table a run writes


class ExplainError(E360Error):
    """A pair that cannot be explained (no model, unknown records)."""


@dataclass(frozen=True)
class WaterfallStep:
    column: str  # the comparison's output column (Splink's name), "Prior" or "Final score"
    name: str  # what the step is about, in words: "Last name", "Prior", "Final match weight"
    label: str  # in words: the level that applied ("similar spelling (Jaro-Winkler ≥ 0.92)"),
    # a term-frequency adjustment ("Last name is rare"), the prior or the final score
    match_weight: float  # this step's partial weight (log2 Bayes factor)
    cumulative: float  # the running total after this step
    value_l: str
    value_r: str
    m_probability: float | None
    u_probability: float | None
    description: str | None
    kind: str  # "prior", "comparison", "tf" (term-frequency adjustment) or "final"


@dataclass(frozen=True)
class Waterfall:
    entity: str
    record_l: str
    record_r: str
    model: str  # e.g. customer/v0001
    steps: list[WaterfallStep] = field(default_factory=list)
    match_weight: float = 0.0
    match_probability: float = 0.0

    @property
    def comparisons(self) -> list[WaterfallStep]:
        return [s for s in self.steps if s.kind in ("comparison", "tf")]


class _Scorer:
    """One linker on one DuckDB connection; DuckDB connections are not shared across
    threads, so scoring is serialised."""

    def __init__(self, linker: Linker, records: pa.Table, model: ModelVersion) -> None:
        self.linker = linker
        self.records = records
        self.model = model
        self.lock = threading.Lock()


class Explainer:
    """Scores pairs with the current model of each entity; thread-safe, cached per model."""

    def __init__(self, config: E360Config, lake: Lake | None = None) -> None:
        self.config = config
        self.lake = lake or Lake.from_config(config)
        self._scorers: dict[tuple[str, str, int | None], _Scorer] = {}
        self._plain_names: dict[str, dict[str, PlainComparison]] = {}
        self._lock = threading.Lock()

    def model_for(self, entity: MasteredEntity) -> ModelVersion | None:
        """The version that scored the stored pairs; before any run, the one a run selects."""
        label = self._pairs_model(entity)
        if label is None:
            return select_model(self.config, entity)
        versions = {v.label: v for v in list_models(self.config.models_dir, entity)}
        if label not in versions:
            raise ExplainError(
                f"master.{entity}_pairs was scored by model {label}, which is not in "
                f"{self.config.models_dir / entity}"
            )
        return versions[label]

    def _pairs_model(self, entity: str) -> str | None:
        table = self.lake.table("master", master_table_name(entity, "pairs"))
        snapshot = table.current_snapshot() if table is not None else None
        summary = snapshot.summary if snapshot is not None else None
        if summary is None:
            return None
        label = dict(summary.additional_properties).get(MODEL_PROPERTY)
        return None if label in (None, "none") else label

    def waterfall(self, entity: str, record_l: str, record_r: str) -> Waterfall:
        scorer = self._scorer(entity)
        with scorer.lock:
            left = _record(scorer.records, record_l, entity)
            right = _record(scorer.records, record_r, entity)
            tables = scorer.linker.table_management
            scored = scorer.linker.inference.score_pair(
                tables.register_table(left, f"__e360_explain_l_{entity}", overwrite=True),
                tables.register_table(right, f"__e360_explain_r_{entity}", overwrite=True),
            )
            try:
                rows = scored.as_record_list()
            finally:
                scored.drop_table_from_database_and_remove_from_cache()
            data = waterfall_data(scorer.linker, rows)
        return _waterfall(
            entity, record_l, record_r, scorer.model.label, data, rows[0], self._plain(entity)
        )

    def _plain(self, entity: str) -> dict[str, PlainComparison]:
        if not is_mastered(entity):
            raise ExplainError(f"unknown entity '{entity}'")
        with self._lock:
            if entity not in self._plain_names:
                comparisons = self.config.entities[entity].matching.comparisons
                self._plain_names[entity] = plain_comparisons(comparisons)
            return self._plain_names[entity]

    def _scorer(self, entity: str) -> _Scorer:
        if not is_mastered(entity) or entity not in self.config.entities:
            raise ExplainError(f"unknown entity '{entity}'")
        model = self.model_for(entity)
        if model is None:
            raise ExplainError(
                f"no trained {entity} model for the configured matching settings: "
                "run `e360 run` (or `e360 match`) first"
            )
        snapshot = self.lake.current_snapshot_id("standardized", standardized_table_name(entity))
        key = (entity, str(model.path), snapshot)
        with self._lock:
            scorer = self._scorers.get(key)
            if scorer is None:
                for stale in [k for k in self._scorers if k[0] == entity]:
                    self._close(self._scorers.pop(stale))
                scorer = self._build(entity, model)
                self._scorers[key] = scorer
        return scorer

    def _build(self, entity: MasteredEntity, model: ModelVersion) -> _Scorer:
        records = self.lake.read("standardized", standardized_table_name(entity))
        if records is None:
            raise ExplainError(f"standardized.{entity} does not exist yet: run the pipeline first")
        # Always DuckDB: explaining one pair needs no cluster, whatever engine runs matching.
        backend = DuckDBAPI(duckdb_connection(self.config.deployment.engine, self.config.root))
        matching = self.config.entities[entity].matching
        table = register(backend, records, f"{entity}_records")
        linker = linker_from_model(table, model, matching, exclusive_sources(self.config, entity))
        register_term_frequencies(linker, model)
        return _Scorer(linker, records, model)

    @staticmethod
    def _close(scorer: _Scorer) -> None:
        con = getattr(linker_backend(scorer.linker), "duckdb_con", None)
        if con is not None:
            con.close()

    def close(self) -> None:
        with self._lock:
            for scorer in self._scorers.values():
                self._close(scorer)
            self._scorers.clear()


def _record(records: pa.Table, record_id: str, entity: str) -> pa.Table:
    found = records.filter(pc.equal(records.column(UNIQUE_ID), record_id))
    if found.num_rows == 0:
        raise ExplainError(f"{entity} record '{record_id}' is not in standardized.{entity}")
    return found.slice(0, 1)


def _float(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _waterfall(
    entity: str,
    record_l: str,
    record_r: str,
    model: str,
    data: list[dict[str, Any]],
    scored: dict[str, Any],
    plain: dict[str, PlainComparison],
) -> Waterfall:
    steps: list[WaterfallStep] = []
    total = 0.0
    comparison: PlainComparison | None = None
    for item in data:
        column = item["column_name"]
        weight = _float(item["log2_bayes_factor"]) or 0.0
        if column == "Prior":
            kind = "prior"
        elif column == "Final score":
            kind = "final"
        elif item.get("term_frequency_adjustment"):
            kind = "tf"
        else:
            kind = "comparison"
        if kind == "tf" and weight == 0.0:
            continue  # no adjustment applied at this level: nothing to show
        if kind == "comparison":
            comparison = plain.get(column)
        if kind != "final":
            total += weight
        name, label = _words(kind, column, item, weight, comparison)
        steps.append(
            WaterfallStep(
                column=column,
                name=name,
                label=label,
                match_weight=weight,
                cumulative=total if kind != "final" else weight,
                value_l=_text(item.get("value_l")),
                value_r=_text(item.get("value_r")),
                m_probability=_float(item.get("m_probability")),
                u_probability=_float(item.get("u_probability")),
                description=_likelihood(weight) if kind in ("comparison", "tf") else None,
                kind=kind,
            )
        )
    return Waterfall(
        entity=entity,
        record_l=record_l,
        record_r=record_r,
        model=model,
        steps=steps,
        match_weight=float(scored["match_weight"]),
        match_probability=float(scored["match_probability"]),
    )


def _words(
    kind: str,
    column: str,
    item: dict[str, Any],
    weight: float,
    comparison: PlainComparison | None,
) -> tuple[str, str]:
    """A step's subject and what it says, in words (never Splink's SQL-flavoured labels).
    A term-frequency step follows its comparison's step in Splink's waterfall data."""
    if kind == "prior":
        odds = 2.0**weight
        return "Prior", f"Starting point: about 1 in {(1 + odds) / odds:,.0f} pairs match"
    if kind == "final":
        return "Final match weight", "Final match weight"
    if comparison is None:  # a comparison this configuration no longer has
        return column_name(column), str(item.get("label_for_charts") or column)
    if kind == "tf":
        return comparison.name, comparison.term_frequency(weight)
    level = item.get("comparison_vector_value")
    return comparison.name, comparison.level(None if level is None else int(level))


def _likelihood(weight: float) -> str:
    """A partial match weight as odds: +3 is "8 times more likely to be a match"."""
    if weight == 0:
        return "neither more nor less likely to be a match"
    factor = 2.0 ** abs(weight)
    return f"{factor:,.1f} times {'more' if weight > 0 else 'less'} likely to be a match"


def _text(value: Any) -> str:
    return "" if value is None or value == "None" else str(value)
