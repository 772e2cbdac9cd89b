"""`e360 check`'s preflight: before a run spends the time, how many comparisons each blocking
rule generates on the files waiting in the landing folder, against `max_comparisons`.

The files are read by the ingestion readers (rows a run would quarantine left out) and
standardised in memory by the standardized zone's own code, the latest row of each key
winning; nothing is written to the lake. The rules are then counted as a run counts them
before predicting (`matching.resolution.blocking.within_budget`, Splink's counting). Above
`sample_records` records per entity a uniform sample is standardised and the counts are
scaled up to the whole (pairs grow with the square of the records): an estimate, said so.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from e360.config import BlockingRule, E360Config, SourceConfig
from e360.entities import MasteredEntity
from e360.zones import standardized_schema
from ingestion.batch import conform_columns
from ingestion.deliveries import deliveries
from ingestion.readers import read_file
from matching.resolution.blocking import as_matched, within_budget
from matching.resolution.engine import register, splink_backend, splink_session
from matching.resolution.settings import exclusive_sources
from matching.standardize.records import complete_products
from matching.standardize.zone import standardize_records

SAMPLE_SEED = 20_261_202


@dataclass(frozen=True)
class RuleEstimate:
    rule: str  # as configured
    comparisons: int  # the pairs this rule adds to the rules before it
    max_comparisons: int

    @property
    def share(self) -> float:
        """Of `max_comparisons`, the budget of one rule."""
        return self.comparisons / self.max_comparisons

    @property
    def over_budget(self) -> bool:
        return self.comparisons > self.max_comparisons


@dataclass(frozen=True)
class EntityEstimate:
    entity: str
    records: int  # the entity's records in the landing folder
    counted: int  # of which standardised and counted (fewer: a sample)
    rules: list[RuleEstimate] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # sources not counted, and why

    @property
    def comparisons(self) -> int:
        return sum(r.comparisons for r in self.rules)

    @property
    def is_sample(self) -> bool:
        return self.counted < self.records

    @property
    def over_budget(self) -> bool:
        return any(r.over_budget for r in self.rules)


def landed_rows(config: E360Config, name: str, source: SourceConfig) -> list[dict[str, Any]]:
    """The rows of a file source waiting under the landing folder (or its S3 prefix) that a
    run would land: the latest row of each key, files in name order."""
    latest: dict[str, dict[str, Any]] = {}
    columns: list[str] = []
    for delivery in deliveries(source, config.landing_dir):
        with delivery.open() as path:
            parsed = conform_columns(name, source, delivery.name, read_file(path, source), columns)
        columns += [c for c in parsed.columns if c not in columns]
        for row in parsed.rows:
            key = (row.get(source.key) or "").strip()
            if key:
                latest.pop(key, None)
                latest[key] = {**row, source.key: key, "_batch_id": None, "_ingested_at": None}
    return list(latest.values())


def standardized_sample(
    config: E360Config, entity: MasteredEntity, *, sample_records: int
) -> tuple[pa.Table, int, list[str]]:
    """The entity's landed records standardised (a uniform sample of `sample_records` when
    there are more), how many there are in all, and the sources left out."""
    rows: list[tuple[str, SourceConfig, dict[str, Any]]] = []
    notes = []
    for name, source in config.sources_of(entity).items():
        if source.format == "kafka":
            notes.append(f"source {name}: a stream, not counted (no landing files)")
            continue
        found = landed_rows(config, name, source)
        if not found:
            notes.append(f"source {name}: no landing file matches '{source.path}'")
        rows.extend((name, source, row) for row in found)
    total = len(rows)
    if total > sample_records:
        picked = sorted(random.Random(SAMPLE_SEED).sample(range(total), sample_records))
        rows = [rows[i] for i in picked]
    records: list[dict[str, Any]] = []
    for name, source, group in _by_source(rows):
        records.extend(standardize_records(name, source, group))
    if entity == "product":
        complete_products(records)  # brands from titles, embeddings: batch-wide, as the zone
    return pa.Table.from_pylist(records, schema=standardized_schema(entity)), total, notes


def _by_source(
    rows: list[tuple[str, SourceConfig, dict[str, Any]]],
) -> Iterator[tuple[str, SourceConfig, list[dict[str, Any]]]]:
    groups: dict[str, tuple[SourceConfig, list[dict[str, Any]]]] = {}
    for name, source, row in rows:
        groups.setdefault(name, (source, []))[1].append(row)
    for name, (source, group) in groups.items():
        yield name, source, group


def estimate_entity(
    config: E360Config, entity: MasteredEntity, *, sample_records: int = 100_000
) -> EntityEstimate:
    """The comparisons each of the entity's blocking rules adds, on its landed records."""
    table, total, notes = standardized_sample(config, entity, sample_records=sample_records)
    matching = config.entities[entity].matching
    if table.num_rows < 2:
        return EntityEstimate(entity, total, table.num_rows, notes=notes)
    table = as_matched(table, entity, matching, population=total)  # as a run sees them
    backend = splink_backend(config)
    with splink_session(backend, entity, "counting comparisons"):
        records = register(backend, table, f"{entity}_preflight")
        budget = within_budget(
            records,
            matching,
            record_count=table.num_rows,
            exclusive_sources=exclusive_sources(config, entity),
        )
    # A sample of n of N records holds n(n-1) / N(N-1) of the pairs, whatever the rule.
    scale = total * (total - 1) / (table.num_rows * (table.num_rows - 1))
    rules = [
        RuleEstimate(_shown(rule), round(count.marginal * scale), matching.max_comparisons)
        for rule, count in zip(matching.blocking_rules, budget.counts, strict=True)
    ]
    return EntityEstimate(entity, total, table.num_rows, rules, notes)


def blocking_estimates(
    config: E360Config, *, sample_records: int = 100_000
) -> list[EntityEstimate]:
    return [
        estimate_entity(config, entity, sample_records=sample_records) for entity in config.entities
    ]


def _shown(rule: BlockingRule) -> str:
    return rule if isinstance(rule, str) else json.dumps(rule)


def estimate_lines(estimates: list[EntityEstimate]) -> list[str]:
    """A table per entity: rule, comparisons, share of the budget, rules over it flagged."""
    lines: list[str] = []
    for estimate in estimates:
        counted = (
            f"a sample of {estimate.counted:,} of {estimate.records:,} records, counts scaled up"
            if estimate.is_sample
            else f"{estimate.records:,} records"
        )
        lines.append(f"{estimate.entity}: blocking on the landing files ({counted})")
        lines += [f"  {note}" for note in estimate.notes]
        if not estimate.rules:
            lines.append("  fewer than 2 records: nothing to compare")
            continue
        width = max(len(r.rule) for r in estimate.rules)
        width = min(max(width, len("rule")), 70)
        budget = estimate.rules[0].max_comparisons
        lines.append(f"  {'rule':<{width}}  {'comparisons':>14}  {'budget':>8}")
        for i, rule in enumerate(estimate.rules):
            flag = ""
            if rule.over_budget:
                # matching.blocking leaves such a rule out of a run, but never the first
                kept = "the first rule stays" if i == 0 else "a run leaves it out"
                flag = f"  OVER max_comparisons ({budget:,}): {kept}"
            shown = rule.rule if len(rule.rule) <= width else rule.rule[: width - 3] + "..."
            lines.append(f"  {shown:<{width}}  {rule.comparisons:>14,}  {rule.share:>8.2%}{flag}")
        lines.append(f"  {'total':<{width}}  {estimate.comparisons:>14,}")
    return lines
