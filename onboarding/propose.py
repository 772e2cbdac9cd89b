"""From profiles to a proposed configuration: one source per file family, its entity, key,
`updated_at` and mapping onto the canonical attributes, the event settings of event sources
and, per mastered entity, matching settings fitted to what is mapped.

Every choice is a `Guess`: the value, how sure (0-1) and why, which the scaffold writes as a
comment. The order of the guesses matters: keys first (a reference is a column holding another
source's keys), then which sources are events (they reference others), then customer or product
by the evidence of each mapping, then the mappings themselves.

Matching settings are not invented here: they are the entity's defaults cut to the mapped
attributes by the planner of `e360 resolve` (`matching.mapped.plan.plan_for`), so `e360 init`
and `e360 resolve` fit one set of defaults the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e360.config import EntityConfig
from e360.entities import CONFORMED_EVENT_TYPES, MASTERED_ENTITIES, MasteredEntity
from matching.mapped.mapping import Mapping
from matching.mapped.plan import Plan, default_entity, plan_for
from onboarding.attributes import (
    CREATED_WORDS,
    SPECS,
    UPDATED_AT,
    AttributeSpec,
    name_score,
    normalise,
)
from onboarding.profile import ColumnProfile, FamilyProfile, OnboardingError

MIN_CONFIDENCE = 0.5  # a column maps onto an attribute from this confidence on
MIN_REFERENCE = 0.5  # share of a column's values that must be another source's keys
KEY_WORDS = frozenset(
    {"id", "no", "nr", "num", "number", "key", "code", "ref", "uuid", "guid", "uid", "pk"}
)
# Words in an event type value, by the conformed type they mean.
EVENT_TYPE_WORDS: dict[str, frozenset[str]] = {
    "purchase": frozenset(
        {"placed", "purchase", "purchased", "order", "ordered", "sale", "sold", "paid", "buy"}
        | {"bought", "completed", "complete", "checkout", "transaction"}
    ),
    "order_cancelled": frozenset({"cancel", "cancelled", "canceled", "cancellation", "void"}),
    "product_view": frozenset({"view", "viewed", "pageview", "impression", "browse", "visit"}),
    "add_to_cart": frozenset({"cart", "basket", "addtocart", "add_to_cart", "bag"}),
}
CHANNEL_WORDS = (
    ("web", ("web", "online", "click", "ecommerce", "site", "app", "digital")),
    ("store", ("pos", "store", "shop", "till", "retail", "branch")),
)
_WORD_RE = re.compile(r"[a-z]+")


@dataclass(frozen=True)
class Guess:
    value: Any
    confidence: float
    reason: str


@dataclass
class EventProposal:
    channel: Guess
    type: Guess | None = None  # a constant type, or
    type_column: Guess | None = None  # a column with `type_map`
    type_map: dict[str, str] = field(default_factory=dict)
    unmapped_types: list[str] = field(default_factory=list)
    customer_source: Guess | None = None
    product_source: Guess | None = None


@dataclass
class SourceProposal:
    family: FamilyProfile
    key: Guess
    entity: Guess | None = None
    updated_at: Guess | None = None
    dayfirst: Guess | None = None
    mapping: dict[str, Guess] = field(default_factory=dict)  # attribute -> column guess
    references: dict[str, Guess] = field(default_factory=dict)  # column -> source guess
    event: EventProposal | None = None
    one_per_master: Guess | None = None

    @property
    def name(self) -> str:
        return self.family.name

    @property
    def kind(self) -> str:
        assert self.entity is not None
        return str(self.entity.value)

    @property
    def unmapped(self) -> list[ColumnProfile]:
        used = {g.value for g in self.mapping.values()} | {self.key.value}
        used |= {self.updated_at.value} if self.updated_at else set()
        if self.event and self.event.type_column:
            used.add(self.event.type_column.value)
        return [c for c in self.family.columns if c.name not in used]


@dataclass
class Proposal:
    landing: Path
    sources: list[SourceProposal]
    plans: dict[MasteredEntity, Plan]
    defaults: dict[MasteredEntity, EntityConfig]

    def of(self, entity: str) -> list[SourceProposal]:
        return [s for s in self.sources if s.kind == entity]


def propose(families: list[FamilyProfile], landing: Path) -> Proposal:
    """The proposed sources and matching settings for profiled file families."""
    sources = [SourceProposal(f, choose_key(f)) for f in families]
    keys = {s.name: s.family.column(s.key.value).distinct for s in sources}
    for source in sources:
        source.references = find_references(source, keys)
    for source in sources:
        source.entity = choose_entity(source, sources)
    for source in sources:
        source.mapping = map_columns(source)
        source.updated_at = None if source.kind == "event" else choose_updated_at(source)
        source.dayfirst = choose_dayfirst(source)
        if source.kind == "event":
            source.event = event_settings(source, {s.name: s for s in sources})
        if source.kind == "product":
            source.one_per_master = one_per_master(source)
    missing = [e for e in MASTERED_ENTITIES if not any(s.kind == e for s in sources)]
    if missing:
        found = ", ".join(f"{s.name}: {s.kind}" for s in sources)
        raise OnboardingError(
            f"{landing}: no {' or '.join(missing)} source found among the files ({found}); "
            "e360 masters both customers and products: add their files to the landing folder"
        )
    defaults = {e: default_entity(e) for e in MASTERED_ENTITIES}
    plans = {e: matching_plan(e, [s for s in sources if s.kind == e], landing) for e in defaults}
    return Proposal(landing, sources, plans, defaults)


# Keys and references.


def choose_key(family: FamilyProfile) -> Guess:
    """The identifier-like column unique and filled in (nearly) every row."""
    best: tuple[float, ColumnProfile] | None = None
    for position, column in enumerate(family.columns):
        if column.fill < 0.95 or column.unique < 1.0 or not column.values:
            continue
        # A timestamp, an e-mail or an amount can be unique without naming the record.
        if max(column.share(k) for k in ("timestamp", "date", "email", "decimal", "text")) > 0.5:
            continue
        words = set(normalise(column.name).split("_"))
        score = 0.5 + 0.3 * bool(words & KEY_WORDS) + 0.15 * column.share("identifier")
        score += 0.05 * (1 - position / len(family.columns))
        if best is None or score > best[0]:
            best = (score, column)
    if best is None:
        # No clean key: the most unique column, flagged for a person to check.
        column = max(family.columns, key=lambda c: (c.fill * c.unique, -c.mean_length))
        return Guess(
            column.name,
            0.3,
            f"check: no column is unique and filled in every row; {column.name} is "
            f"{column.fill:.0%} filled, {column.unique:.0%} unique",
        )
    score, column = best
    return Guess(
        column.name,
        round(min(score, 1.0), 2),
        f"unique and filled in {column.fill:.0%} of {column.rows:,} rows",
    )


def find_references(source: SourceProposal, keys: dict[str, set[str]]) -> dict[str, Guess]:
    """Columns whose values are another source's keys: per column, the source whose keys
    the values match best."""
    found: dict[str, Guess] = {}
    for column in source.family.columns:
        if column.name == source.key.value or not column.distinct:
            continue
        if max(column.share("identifier"), column.share("integer")) < 0.5:
            continue
        shares = {
            other: len(column.distinct & values) / len(column.distinct)
            for other, values in keys.items()
            if other != source.name
        }
        if not shares:
            continue
        other, share = max(shares.items(), key=lambda item: item[1])
        if share >= MIN_REFERENCE:
            reason = f"{share:.2f} of its values are keys of {other}"
            found[column.name] = Guess(other, round(share, 2), reason)
    return found


# Entities.


def entity_evidence(source: SourceProposal, entity: str) -> tuple[float, list[str]]:
    """How much the columns say the source holds this entity: the weighted confidence of
    what they would map onto, and those attributes."""
    mapping = _assign(source, SPECS[entity], set(source.references))
    specs = SPECS[entity]
    score = sum(specs[a].weight * g.confidence for a, g in mapping.items())
    return score, sorted(mapping, key=lambda a: -mapping[a].confidence)


def choose_entity(source: SourceProposal, sources: list[SourceProposal]) -> Guess:
    scores = {e: entity_evidence(source, e) for e in MASTERED_ENTITIES}
    referenced = any(source.name in _targets(s) for s in sources if s is not source)
    # A feed referencing other sources' keys is an event feed, unless it is itself
    # referenced (a source pointing at another, such as a loyalty file naming CRM ids) or
    # clearly a master of its own.
    master = max(score for score, _ in scores.values())
    if source.references and not referenced and master < 3.0:
        names = ", ".join(
            f"{column} -> {guess.value}" for column, guess in source.references.items()
        )
        confidence = 0.9 if len(source.references) > 1 else 0.75
        return Guess("event", confidence, f"its columns reference other sources ({names})")
    (best, (top, attributes)), (_, (other, _)) = sorted(
        scores.items(), key=lambda item: -item[1][0]
    )
    if top == 0:
        return Guess(best, 0.2, "check: no column looks like a customer or product attribute")
    confidence = top / (top + other)
    return Guess(
        best,
        round(confidence, 2),
        f"{', '.join(attributes[:5])} (evidence {top:.1f} vs {other:.1f} for "
        f"{'product' if best == 'customer' else 'customer'})",
    )


def _targets(source: SourceProposal) -> set[str]:
    return {str(g.value) for g in source.references.values()}


# Mappings.


def map_columns(source: SourceProposal) -> dict[str, Guess]:
    # An event's references become customer_ref / product_ref (event_settings), nothing else.
    excluded = set(source.references) if source.kind == "event" else set()
    mapping = _assign(source, SPECS[source.kind], excluded)
    if source.kind == "product" and "sku" not in mapping and _sku_like(source.key.value):
        mapping["sku"] = Guess(source.key.value, 0.7, "the key, named like a stock-keeping unit")
    return mapping


def _sku_like(column: str) -> bool:
    words = set(normalise(column).split("_"))
    return bool(words & {"sku", "item", "article", "product"})


def attribute_guess(spec: AttributeSpec, column: ColumnProfile) -> Guess | None:
    """How sure a column is the attribute, from its name and contents."""
    if not column.values:
        return None
    named, how = name_score(spec, column.name)
    fit = spec.fit(column)
    if named:
        confidence = 0.55 * named + 0.45 * fit
        if spec.decisive and fit < 0.3:
            confidence *= 0.5  # named like it, but the values say otherwise
        reason = f"{how}; {fit:.2f} of values look like {spec.looks}"
    elif spec.decisive and fit >= spec.alone:
        confidence = 0.9 * fit
        reason = f"{fit:.2f} of values look like {spec.looks}"
    else:
        return None
    return Guess(column.name, round(confidence, 2), reason)


def _assign(
    source: SourceProposal, specs: dict[str, AttributeSpec], excluded: set[str] | None = None
) -> dict[str, Guess]:
    """Each attribute onto at most one column and each column onto at most one attribute,
    the surest pairs first (the key and `excluded` columns aside)."""
    excluded = {source.key.value} | (excluded or set())
    candidates = []
    for attribute, spec in specs.items():
        for column in source.family.columns:
            if column.name in excluded:
                continue
            guess = attribute_guess(spec, column)
            if guess is not None and guess.confidence >= MIN_CONFIDENCE:
                candidates.append((guess.confidence, attribute, guess))
    mapping: dict[str, Guess] = {}
    used: set[str] = set()
    for _, attribute, guess in sorted(candidates, key=lambda c: -c[0]):
        if attribute not in mapping and guess.value not in used:
            mapping[attribute] = guess
            used.add(guess.value)
    return mapping


def choose_updated_at(source: SourceProposal) -> Guess | None:
    mapped = {g.value for g in source.mapping.values()}
    best: Guess | None = None
    for column in source.family.columns:
        if column.name in mapped or column.name == source.key.value:
            continue
        guess = attribute_guess(UPDATED_AT, column)
        if guess is None and column.share("timestamp") >= 0.9:
            words = set(normalise(column.name).split("_"))
            if words & CREATED_WORDS or words & {"at", "on", "ts"}:
                reason = "check: no column says when a record changed; the next best time"
                guess = Guess(column.name, 0.5, reason)
        if (
            guess
            and guess.confidence >= MIN_CONFIDENCE
            and (best is None or guess.confidence > best.confidence)
        ):
            best = guess
    return best


def choose_dayfirst(source: SourceProposal) -> Guess | None:
    """What the source's dd/mm/yyyy dates say, when they say it."""
    votes = [
        (column.name, column.dayfirst)
        for column in source.family.columns
        if column.dayfirst is not None
    ]
    if not votes:
        return None
    first = sum(1 for _, vote in votes if vote)
    value = first >= len(votes) / 2
    columns = ", ".join(name for name, vote in votes if vote == value)
    how = "a day above 12 first" if value else "a day above 12 second"
    return Guess(value, round(max(first, len(votes) - first) / len(votes), 2), f"{columns}: {how}")


def one_per_master(source: SourceProposal) -> Guess | None:
    """A catalogue: every product identified by a GTIN of its own."""
    guess = source.mapping.get("gtin")
    if guess is None:
        return None
    column = source.family.column(guess.value)
    if column.fill < 0.5 or column.unique < 1.0 or column.values < 20:
        return None
    reason = f"all {column.values:,} GTINs differ: a catalogue, one record per product"
    return Guess(True, 0.6, reason)


# Events.


def event_settings(source: SourceProposal, sources: dict[str, SourceProposal]) -> EventProposal:
    refs: dict[str, tuple[str, Guess]] = {}
    for column, guess in source.references.items():
        target = sources[str(guess.value)]
        if target.kind not in MASTERED_ENTITIES:
            continue
        attribute = f"{target.kind}_ref"
        if attribute not in refs or guess.confidence > refs[attribute][1].confidence:
            refs[attribute] = (column, guess)
    event = EventProposal(channel=_channel(source))
    for attribute, (column, guess) in refs.items():
        source.mapping[attribute] = Guess(column, guess.confidence, guess.reason)
        setattr(event, attribute.replace("_ref", "_source"), guess)
    _event_type(source, event)
    return event


def _channel(source: SourceProposal) -> Guess:
    name = source.name
    for channel, words in CHANNEL_WORDS:
        if any(word in name for word in words):
            return Guess(channel, 0.6, f"the source's name ({name})")
    return Guess(name, 0.3, "check: the source's name; say web, store, app, ...")


def event_type_of(value: str) -> str | None:
    words = set(_WORD_RE.findall(value.lower()))
    compact = re.sub(r"[^a-z]", "", value.lower())
    for event_type, known in EVENT_TYPE_WORDS.items():
        if words & known or compact in known:
            # "add to cart" also says "add"; "cancel order" also says "order"
            if event_type == "purchase" and words & EVENT_TYPE_WORDS["order_cancelled"]:
                continue
            return event_type
    return None


def _event_type(source: SourceProposal, event: EventProposal) -> None:
    mapped = {g.value for g in source.mapping.values()} | {source.key.value}
    best: tuple[float, ColumnProfile, dict[str, str]] | None = None
    for column in source.family.columns:
        if column.name in mapped or not 0 < len(column.distinct) <= 20:
            continue
        if column.share("word") < 0.9:
            continue
        types = {v: t for v in sorted(column.distinct) if (t := event_type_of(v)) is not None}
        share = len(types) / len(column.distinct)
        if types and share >= 0.5 and (best is None or share > best[0]):
            best = (share, column, types)
    if best is not None:
        share, column, types = best
        event.type_column = Guess(
            column.name,
            round(share, 2),
            f"{len(types)} of its {len(column.distinct)} values name event types",
        )
        event.type_map = types
        event.unmapped_types = sorted(column.distinct - set(types))
        return
    sales = [a for a in ("amount", "quantity") if a in source.mapping]
    if sales:
        event.type = Guess("purchase", 0.6, f"every row: it has {' and '.join(sales)}")
    else:
        default = CONFORMED_EVENT_TYPES[0]
        event.type = Guess(default, 0.3, "check: no column names the event type")


# Matching.


def matching_plan(entity: MasteredEntity, sources: list[SourceProposal], landing: Path) -> Plan:
    """The entity's default matching settings cut to what its sources map (the planner of
    `e360 resolve`); the defaults' threshold is kept."""
    mapping = Mapping.model_validate(
        {
            "entity": entity,
            "threshold": default_entity(entity).matching.threshold,
            "sources": [
                {
                    "name": s.name,
                    "path": s.family.pattern,
                    "key": s.key.value,
                    "attributes": {a: g.value for a, g in s.mapping.items()},
                }
                for s in sources
            ],
        }
    )
    mapping._file = landing / f"{entity} sources"
    return plan_for(mapping)
