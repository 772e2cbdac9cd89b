"""The matching settings a mapping allows.

The entity's defaults are the `entities` section of the demo configuration
(`examples/demo/e360.yaml`, shipped in the wheel: `e360.resources.DEMO_CONFIG`), the reference
every pipeline run also starts from. A mapping rarely maps every attribute, so the defaults
are cut to what the mapped attributes can fill: a blocking rule, comparison or training rule is
kept only when every standardized column it reads can be derived from a mapped attribute
(`SOURCES_OF` says which attributes feed which derived column). Extra columns add one
comparison each, by kind. When too little is left to match at all, `MatchError` says what to
map.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from e360.config import BlockingRule, EntityConfig, MatchingConfig, load_config
from e360.entities import MasteredEntity
from e360.errors import MatchError
from e360.resources import DEMO_CONFIG
from e360.zones import STANDARDIZED_COLUMNS
from matching.mapped.mapping import ExtraKind, Mapping
from matching.resolution.comparisons import at_thresholds, pair_column, word_overlap
from matching.resolution.customer_comparisons import ANY_COLUMN_COMPARISONS
from matching.resolution.settings import comparison
from matching.resolution.splink_adapter import ComparisonCreator, cl, cll
from matching.standardize.lsh import EXPLODED_COLUMNS

DEFAULTS_FILE = DEMO_CONFIG

# Standardized columns filled from other (or more) attributes than the one of their name.
SOURCES_OF: dict[str, dict[str, frozenset[str]]] = {
    "customer": {
        "first_name": frozenset({"first_name", "full_name"}),
        "first_name_raw": frozenset({"first_name", "full_name"}),
        "middle_name": frozenset({"middle_name", "full_name"}),
        "last_name": frozenset({"last_name", "full_name"}),
        "full_name": frozenset({"first_name", "middle_name", "last_name", "full_name"}),
        "name_sort": frozenset({"first_name", "last_name", "full_name"}),
        "dob_year": frozenset({"date_of_birth"}),
        "email_user": frozenset({"email"}),
        "postcode_area": frozenset({"postcode"}),
        "country": frozenset({"country", "phone"}),
        "first_name_phonetic": frozenset({"first_name", "full_name"}),
        "last_name_phonetic": frozenset({"last_name", "full_name"}),
        "company_name_tokens": frozenset({"company_name"}),
    },
    "product": {
        "model_number": frozenset({"model_number", "title"}),
        "model_number_from_title": frozenset({"title"}),
        "title_tokens": frozenset({"title"}),
        "colour": frozenset({"title", "model_number"}),
        "brand": frozenset({"brand", "title"}),
        "title_weighted": frozenset({"title"}),
        "text_tokens": frozenset({"title", "description"}),
        "units": frozenset({"title", "description"}),
        "title_lsh": frozenset({"title", "description"}),
        "title_embedding": frozenset({"title"}),
    },
}

# When none of the defaults' deterministic rules (which estimate the share of matching pairs)
# can be evaluated, these stand in, first usable wins: each is near-certain evidence of a
# match on its own.
FALLBACK_DETERMINISTIC_RULES: dict[str, list[list[str]]] = {
    "customer": [
        ["first_name", "last_name", "date_of_birth"],
        ["email"],
        ["phone", "last_name"],
        ["first_name", "last_name", "postcode"],
    ],
    "product": [
        ["gtin"],
        ["brand", "model_number"],
        ["model_number", "title_tokens"],
        ["brand", "title_weighted"],
    ],
}

_RULE_COLUMN_RE = re.compile(r"\b[lr]\.\"?([A-Za-z_][A-Za-z0-9_]*)\"?")


@cache
def default_entity(entity: MasteredEntity) -> EntityConfig:
    """The entity's default settings (environment overrides deliberately not applied: a
    resolve must not change with E360__ variables meant for a pipeline)."""
    return load_config(DEFAULTS_FILE, environ={}).entities[entity]


def sources_of(entity: str, column: str) -> frozenset[str]:
    """The canonical attributes any of which fills a standardized column."""
    return SOURCES_OF[entity].get(column, frozenset({column}))


def usable_columns(entity: str, mapped: set[str]) -> set[str]:
    """Standardized columns at least one mapped attribute can fill."""
    return {name for name, _ in STANDARDIZED_COLUMNS[entity] if sources_of(entity, name) & mapped}


def rule_columns(rule: BlockingRule) -> set[str]:
    """Columns a blocking rule reads: its list, or every `l.x` / `r.x` of its SQL."""
    return set(rule) if isinstance(rule, list) else set(_RULE_COLUMN_RE.findall(rule))


@dataclass(frozen=True)
class ExtraComparison:
    column: str  # the record column (see mapping.extra_column)
    kind: ExtraKind

    def creator(self) -> ComparisonCreator:
        return extra_comparison(self.column, self.kind)


@dataclass
class Plan:
    entity: str
    matching: MatchingConfig  # the defaults cut to the usable columns
    extras: list[ExtraComparison]
    usable: set[str]
    # What the defaults had and this mapping cannot use, for the report.
    unused: dict[str, list[Any]] = field(default_factory=dict)

    def comparisons(self) -> list[ComparisonCreator]:
        return [comparison(c) for c in self.matching.comparisons] + [
            e.creator() for e in self.extras
        ]

    def summary(self) -> dict[str, Any]:
        return {
            "blocking_rules": self.matching.blocking_rules,
            "comparisons": [c.input_columns for c in self.matching.comparisons]
            + [[e.column] for e in self.extras],
            "extra_kinds": {e.column: e.kind for e in self.extras},
            "deterministic_rules": self.matching.training.deterministic_rules,
            "em_blocking_rules": self.matching.training.em_blocking_rules,
            "threshold": self.matching.threshold,
            "unused_defaults": self.unused,
        }


def plan_for(mapping: Mapping, defaults: EntityConfig | None = None) -> Plan:
    """The matching settings for this mapping, or a MatchError saying what to map."""
    entity = mapping.entity
    defaults = defaults or default_entity(entity)
    matching = defaults.matching
    mapped = mapping.mapped_attributes
    usable = usable_columns(entity, mapped)

    def fits(rule: BlockingRule) -> bool:
        return rule_columns(rule) <= usable

    blocking = [r for r in matching.blocking_rules if fits(r)]
    comparisons = [c for c in matching.comparisons if _comparable(c, usable)]
    extras = [ExtraComparison(c, k) for c, k in sorted(mapping.extra_columns().items())]
    where = f"{mapping.file}: {entity}"
    if not blocking:
        needs = "; ".join(_describe(entity, r) for r in matching.blocking_rules)
        raise MatchError(
            f"{where}: the mapped attributes ({', '.join(sorted(mapped)) or 'none'}) leave no "
            f"blocking rule to find candidate pairs; map the attributes of one of: {needs}"
        )
    if len(comparisons) + len(extras) < 2:
        names = [c.input_columns for c in comparisons] + [[e.column] for e in extras]
        raise MatchError(
            f"{where}: only {len(names)} attribute comparison(s) possible ({names}); matching "
            "weighs evidence from at least two attributes: map more attributes or extra columns"
        )
    training = matching.training
    # Splink trains on plain joins only: a rule exploding an array column blocks, no more.
    countable = [r for r in blocking if not (rule_columns(r) & EXPLODED_COLUMNS)]
    deterministic = [r for r in training.deterministic_rules if fits(r)]
    if not deterministic:
        fallbacks: list[BlockingRule] = list(FALLBACK_DETERMINISTIC_RULES[entity])
        deterministic = [next(r for r in [*fallbacks, *countable] if fits(r))]
    em_rules = _em_rules([r for r in training.em_blocking_rules if fits(r)], countable, comparisons)
    unused: dict[str, list[Any]] = {
        "blocking_rules": [r for r in matching.blocking_rules if r not in blocking],
        "comparisons": [c.input_columns for c in matching.comparisons if c not in comparisons],
        "deterministic_rules": [r for r in training.deterministic_rules if not fits(r)],
        "em_blocking_rules": [r for r in training.em_blocking_rules if not fits(r)],
    }
    cut = matching.model_copy(
        update={
            "blocking_rules": blocking,
            "comparisons": comparisons,
            "training": training.model_copy(
                update={"deterministic_rules": deterministic, "em_blocking_rules": em_rules}
            ),
            "threshold": mapping.threshold,
            "max_comparisons": mapping.max_comparisons or matching.max_comparisons,
        }
    )
    return Plan(entity, cut, extras, usable, {k: v for k, v in unused.items() if v})


def _comparable(spec: Any, usable: set[str]) -> bool:
    """Whether the mapping fills what a comparison reads (an address needs any of its
    columns: line, postcode or city each carry evidence on their own)."""
    columns = set(spec.input_columns)
    return bool(columns & usable) if spec.type in ANY_COLUMN_COMPARISONS else columns <= usable


def _em_rules(
    em_rules: list[BlockingRule], blocking: list[BlockingRule], comparisons: list[Any]
) -> list[BlockingRule]:
    """EM rules such that every comparison is estimated in at least one of them: a rule
    cannot estimate the comparisons of the columns it blocks on, so the usable blocking rules
    fill the gaps (extra columns are never blocked on, so any rule estimates them)."""
    rules = list(em_rules)
    for spec in comparisons:
        columns = set(spec.input_columns)
        if any(not (rule_columns(r) & columns) for r in rules):
            continue
        candidate = next((r for r in blocking if not (rule_columns(r) & columns)), None)
        if candidate is not None:
            rules.append(candidate)
    return rules or blocking[:1]


def _describe(entity: str, rule: BlockingRule) -> str:
    return " + ".join(
        "/".join(sorted(sources_of(entity, column))) for column in sorted(rule_columns(rule))
    )


# Extra columns, compared by kind.


def extra_comparison(column: str, kind: ExtraKind) -> ComparisonCreator:
    if kind == "exact":
        return cl.ExactMatch(column)
    if kind == "date":
        return cl.AbsoluteDateDifferenceAtThresholds(
            column, input_is_string=False, metrics=["day", "month", "year"], thresholds=[7, 1, 1]
        )
    if kind == "number":
        return _relative_difference(column, (0.01, 0.1))
    return _text(column)


def _text(column: str) -> ComparisonCreator:
    """Exact; close spelling (Jaro-Winkler); the same words in another order; loosely alike."""
    overlap = word_overlap(column)
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.JaroWinklerLevel(column, 0.92),
            cll.CustomLevel(f"{overlap} >= 0.6", "most words shared", base_dialect_str="duckdb"),
            cll.JaroWinklerLevel(column, 0.8),
            cll.ElseLevel(),
        ],
        output_column_name=column,
        comparison_description="text: exact, Jaro-Winkler >= 0.92, word overlap, >= 0.8, else",
    )


def _relative_difference(column: str, thresholds: tuple[float, ...]) -> ComparisonCreator:
    """Exact, then within each relative difference |l - r| / max(|l|, |r|)."""
    left, right = pair_column(column, "l"), pair_column(column, "r")
    difference = f"abs({left} - {right}) / greatest(abs({left}), abs({right}))"
    return at_thresholds(
        column,
        difference,
        thresholds,
        lambda t: (f"{difference} <= {t}", f"within {t:.0%}"),
        "number: exact, then relative difference levels",
    )
