"""From profiles to a proposed configuration: one source per file family, its entity, key,
`updated_at` and mapping onto the canonical attributes, the event settings of event sources
and, per mastered entity, matching settings fitted to what is mapped.

Every choice is a `Guess`: the value, how sure (0-1) and why, which the scaffold writes as a
comment. The order of the guesses matters: keys first (a reference is a column holding another
source's keys), then which sources are events (they reference others), then customer or product
by the evidence of each mapping, then the mappings themselves.

A mapping guess's value is the mapping value itself (`e360.mappings`): a column name, written
in braces when it holds a brace, or a template joining columns (a house number and a street).
An event reference may point into several sources of one entity (a feed naming customers of
two CRMs); a column of the feed naming the system, or the keys' prefixes, then tell which.

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
from e360.mappings import column_reference, columns_of
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
# What a further source must add to the share of a column's values that are keys, for the
# column to reference several sources (customers of two CRMs in one feed).
MIN_EXTRA_REFERENCE = 0.2
# The share of references a source column or key prefixes must send to a source holding them.
MIN_TELLING_APART = 0.95
MAX_SYSTEMS = 20  # distinct values of a column naming the source of a reference, at most
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
    customer_source: Guess | None = None  # the one source, or
    product_source: Guess | None = None
    customer_sources: SeveralSources | None = None  # several, and how a row tells which
    product_sources: SeveralSources | None = None

    @property
    def source_columns(self) -> set[str]:
        """The feed's columns naming the source of a reference."""
        several = (self.customer_sources, self.product_sources)
        return {str(s.column.value) for s in several if s is not None and s.column is not None}


@dataclass
class SeveralSources:
    """An event reference into several sources of one entity: the sources, and either a
    column of the feed whose values name them (`column`, `values`: value -> source) or the
    key prefix of each (`prefixes`: prefix -> source)."""

    sources: Guess  # value: the source names, the most referenced first
    column: Guess | None = None
    values: dict[str, str] = field(default_factory=dict)
    prefixes: Guess | None = None


@dataclass
class SourceProposal:
    family: FamilyProfile
    key: Guess
    entity: Guess | None = None
    updated_at: Guess | None = None
    dayfirst: Guess | None = None
    mapping: dict[str, Guess] = field(default_factory=dict)  # attribute -> mapping value guess
    # column -> the sources whose keys it holds (a tuple of names, the best matched first)
    references: dict[str, Guess] = field(default_factory=dict)
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
    def mapped_columns(self) -> set[str]:
        """The columns the mapping reads."""
        return {c for g in self.mapping.values() for c in columns_of(str(g.value))}

    @property
    def unmapped(self) -> list[ColumnProfile]:
        used = self.mapped_columns | {self.key.value}
        used |= {self.updated_at.value} if self.updated_at else set()
        if self.event:
            used |= self.event.source_columns
            if self.event.type_column:
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
    """Columns whose values are other sources' keys: per column, the source whose keys the
    values match best, joined by any other source matching clearly more of them (a feed naming
    customers of two CRMs reaches MIN_REFERENCE for neither alone)."""
    found: dict[str, Guess] = {}
    for column in source.family.columns:
        if column.name == source.key.value or not column.distinct:
            continue
        if max(column.share("identifier"), column.share("integer")) < 0.5:
            continue
        matched = {
            other: column.distinct & values
            for other, values in keys.items()
            if other != source.name
        }
        chosen, covered = _covering(matched, len(column.distinct))
        share = len(covered) / len(column.distinct)
        if share < MIN_REFERENCE:
            continue
        if len(chosen) == 1:
            reason = f"{share:.2f} of its values are keys of {chosen[0]}"
        else:
            each = ", ".join(
                f"{name} {len(matched[name]) / len(column.distinct):.2f}" for name in chosen
            )
            reason = f"{share:.2f} of its values are keys of {' or '.join(chosen)} ({each})"
        found[column.name] = Guess(tuple(chosen), round(share, 2), reason)
    return found


def _covering(matched: dict[str, set[str]], values: int) -> tuple[list[str], set[str]]:
    """The sources covering a column's `values` distinct values, greedily: the best matched
    first, then each adding at least MIN_EXTRA_REFERENCE of the values."""
    chosen: list[str] = []
    covered: set[str] = set()
    remaining = dict(matched)  # in the sources' order: the first of equals wins, as always
    while remaining:
        name, hits = max(remaining.items(), key=lambda item: len(item[1] - covered))
        gain = len(hits - covered)
        if not gain or (chosen and gain < MIN_EXTRA_REFERENCE * values):
            break
        chosen.append(name)
        covered |= hits
        del remaining[name]
    return chosen, covered


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
            f"{column} -> {' + '.join(guess.value)}" for column, guess in source.references.items()
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
    return {name for g in source.references.values() for name in g.value}


# Mappings.


def map_columns(source: SourceProposal) -> dict[str, Guess]:
    """Attribute -> the mapping value reading it (a column, or a template joining columns)."""
    # An event's references become customer_ref / product_ref (event_settings), nothing else.
    excluded = set(source.references) if source.kind == "event" else set()
    mapping = _assign(source, SPECS[source.kind], excluded)
    if source.kind == "product" and "sku" not in mapping and _sku_like(source.key.value):
        mapping["sku"] = Guess(source.key.value, 0.7, "the key, named like a stock-keeping unit")
    mapping = {a: _reading(g) for a, g in mapping.items()}
    if "address_line1" in SPECS[source.kind]:
        mapping = with_street_line(source, mapping)
    return mapping


def _reading(guess: Guess) -> Guess:
    """A guessed column as the mapping value reading it."""
    return Guess(column_reference(str(guess.value)), guess.confidence, guess.reason)


def _sku_like(column: str) -> bool:
    words = set(normalise(column).split("_"))
    return bool(words & {"sku", "item", "article", "product"})


# A house number kept apart from its street: `12`, `4a`, `221 B`.
_HOUSE_NUMBER_RE = re.compile(r"^\d{1,5} ?[a-z]?$", re.IGNORECASE)
NUMBER_WORDS = frozenset({"number", "no", "nr", "num", "nbr", "housenumber", "houseno"})
NUMBER_OF = frozenset({"house", "street", "building", "door", "civic", "road"})
STREET_WORDS = frozenset({"street", "road", "streetname", "strasse", "straat", "rue", "calle"})


def with_street_line(source: SourceProposal, mapping: dict[str, Guess]) -> dict[str, Guess]:
    """The mapping with `address_line1: "{number} {street}"` when a house-number column stands
    beside a street column whose lines carry no number. Neither may be read by another
    attribute, unless by its contents alone: `High Street` looks like a full name, but a
    column called `street` holds streets."""
    current = mapping.get("address_line1")
    current_columns = columns_of(str(current.value)) if current is not None else []
    specs = SPECS[source.kind]
    read = {a: columns_of(str(g.value)) for a, g in mapping.items()}
    by_contents = {
        columns[0]: a
        for a, columns in read.items()
        if len(columns) == 1 and a in specs and not name_score(specs[a], columns[0])[0]
    }
    taken = {c for columns in read.values() for c in columns}
    taken -= set(current_columns) | set(by_contents)
    taken |= {source.key.value} | set(source.references)
    numbers: list[tuple[float, ColumnProfile]] = []
    streets: list[tuple[float, ColumnProfile]] = []
    for column in source.family.columns:
        if column.name in taken or not column.distinct:
            continue
        words = set(normalise(column.name).split("_"))
        if words & NUMBER_WORDS and words <= NUMBER_WORDS | NUMBER_OF:
            hits = sum(map(bool, map(_HOUSE_NUMBER_RE.match, column.distinct)))
            numbers.append((hits / len(column.distinct), column))
        elif words & STREET_WORDS:
            # street names: words, not lines already starting with a number
            fit = max(column.share("text"), column.share("word")) - column.share("address")
            streets.append((fit, column))
    if not numbers or not streets:
        return mapping
    number_fit, number = max(numbers, key=lambda item: item[0])
    street_fit, street = max(streets, key=lambda item: item[0])
    if min(number_fit, street_fit) < 0.8 or current_columns not in ([], [street.name]):
        return mapping
    freed = {by_contents.get(c.name) for c in (number, street)}
    mapping = {a: g for a, g in mapping.items() if a not in freed}
    value = " ".join(column_reference(c.name, braced=True) for c in (number, street))
    mapping["address_line1"] = Guess(
        value,
        round(0.9 * min(number_fit, street_fit), 2),
        f"{number.name} holds house numbers (e.g. {', '.join(number.examples[:2])}) beside the "
        f"street {street.name}: one street line, the number first",
    )
    return mapping


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
    mapped = source.mapped_columns
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
    column = source.family.column(columns_of(guess.value)[0])
    if column.fill < 0.5 or column.unique < 1.0 or column.values < 20:
        return None
    reason = f"all {column.values:,} GTINs differ: a catalogue, one record per product"
    return Guess(True, 0.6, reason)


# Events.


def event_settings(source: SourceProposal, sources: dict[str, SourceProposal]) -> EventProposal:
    """Channel, type and where the references point: per entity the column whose values are
    most often keys of that entity's sources, into one source or several."""
    keys = {name: s.family.column(s.key.value).distinct for name, s in sources.items()}
    refs: dict[str, tuple[float, str, list[str]]] = {}  # attribute -> (share, column, sources)
    for column, guess in source.references.items():
        values = source.family.column(column).distinct
        for entity in MASTERED_ENTITIES:
            targets = [n for n in guess.value if sources[n].kind == entity]
            if not targets:
                continue
            share = len(values & set().union(*(keys[n] for n in targets))) / len(values)
            attribute = f"{entity}_ref"
            if share >= MIN_REFERENCE and (attribute not in refs or share > refs[attribute][0]):
                refs[attribute] = (share, column, targets)
    for attribute, (share, column, _) in list(refs.items()):
        # one column is one reference: the entity whose sources hold more of its values
        if any(c == column and s > share for s, c, _ in refs.values()):
            del refs[attribute]
    event = EventProposal(channel=_channel(source))
    for attribute, (share, column, targets) in refs.items():
        kind = attribute.removesuffix("_ref")
        values = source.family.column(column).distinct
        shares = {n: len(values & keys[n]) / len(values) for n in targets}
        if len(targets) == 1:
            reason = f"{share:.2f} of its values are keys of {targets[0]}"
            chosen = Guess(targets[0], round(share, 2), reason)
            setattr(event, f"{kind}_source", chosen)
        else:
            each = ", ".join(f"{n} {shares[n]:.2f}" for n in targets)
            reason = f"{share:.2f} of its values are keys of {' or '.join(targets)} ({each})"
            several = tell_apart(source, column, targets, keys)
            if several is not None:
                several.sources = Guess(targets, round(share, 2), reason)
                setattr(event, f"{kind}_sources", several)
            else:
                best = targets[0]
                setattr(event, f"{kind}_source", _spanning(kind, best, shares, share))
        source.mapping[attribute] = Guess(column_reference(column), round(share, 2), reason)
    _event_type(source, event)
    return event


def _spanning(entity: str, best: str, shares: dict[str, float], share: float) -> Guess:
    """The best referenced source, flagged: the references span several that nothing in the
    rows tells apart."""
    each = ", ".join(f"{n} {s:.2f}" for n, s in shares.items())
    return Guess(
        best,
        round(shares[best], 2),
        f"check: its values are keys of several sources ({each}; {share:.2f} together) and "
        f"no column or key prefix tells which a row means: list them in {entity}_sources and "
        f"set {entity}_source_column (a column naming the source) or {entity}_key_prefixes",
    )


Homes = list[tuple[dict[str, str | None], str, set[str]]]  # row, reference, its sources


def tell_apart(
    source: SourceProposal, column: str, targets: list[str], keys: dict[str, set[str]]
) -> SeveralSources | None:
    """How the rows of an event feed say which of several sources a reference in `column`
    points into: the sources' key prefixes, or a column of the feed whose values go with one
    source each, whichever sends more references to a source holding them (at least
    MIN_TELLING_APART; prefixes on a tie: every key carries its own); None when neither."""
    homes: Homes = []
    for row in source.family.records:
        ref = (row.get(column) or "").strip()
        holders = {n for n in targets if ref in keys[n]}
        if holders:
            homes.append((row, ref, holders))
    if not homes:
        return None
    # A column already read, or naming event types, says something else.
    used = source.mapped_columns | {column, source.key.value}
    options = [
        _by_column(candidate, homes)
        for candidate in source.family.columns
        if candidate.name not in used
        and 2 <= len(candidate.distinct) <= MAX_SYSTEMS
        and sum(map(bool, map(event_type_of, candidate.distinct))) < len(candidate.distinct) / 2
    ]
    options.append(_by_prefixes(key_prefixes(targets, keys), homes))
    told = [o for o in options if o is not None and _told(o) >= MIN_TELLING_APART]
    if not told:
        return None
    several = max(told, key=lambda o: (_told(o), o.prefixes is not None))
    several.sources = Guess(targets, 0.0, "")  # the caller says how sure and why
    return several


def _told(several: SeveralSources) -> float:
    how = several.prefixes or several.column
    assert how is not None
    return how.confidence


def _by_prefixes(prefixes: dict[str, str], homes: Homes) -> SeveralSources | None:
    if not prefixes:
        return None
    hits = sum(_prefixed(ref, prefixes) in holders for _, ref, holders in homes)
    shown = ", ".join(f"{name} '{prefix}'" for prefix, name in prefixes.items())
    reason = f"each source's keys start with a prefix of their own ({shown}): right for "
    reason += f"{hits / len(homes):.2f} of the references"
    return SeveralSources(Guess([], 0.0, ""), prefixes=Guess(prefixes, hits / len(homes), reason))


def _by_column(candidate: ColumnProfile, homes: Homes) -> SeveralSources | None:
    """The candidate's values, each taken to name the source holding most of its rows'
    references; None unless they name two sources or more."""
    counts: dict[str, dict[str, int]] = {}
    for row, _, holders in homes:
        value = (row.get(candidate.name) or "").strip()
        for name in holders if value else ():
            per = counts.setdefault(value, {})
            per[name] = per.get(name, 0) + 1
    values = {v: max(sorted(per), key=lambda n: per[n]) for v, per in sorted(counts.items())}
    if len(set(values.values())) < 2:
        return None
    hits = sum(
        values.get((row.get(candidate.name) or "").strip()) in holders for row, _, holders in homes
    )
    shown = ", ".join(f"{value} -> {name}" for value, name in values.items())
    reason = f"its values name the source ({shown}): right for {hits / len(homes):.2f} of the "
    reason += "references"
    return SeveralSources(
        Guess([], 0.0, ""), Guess(candidate.name, hits / len(homes), reason), values
    )


def key_prefixes(targets: list[str], keys: dict[str, set[str]]) -> dict[str, str]:
    """Prefix -> source when every key of each source starts with letters and marks of its
    own (`K-1001`, `S-0042`: `K-`, `S-`); empty when they do not. A prefix ends in a mark or
    before a digit in every key: `ABC` and `ABD` share `AB` by chance."""
    prefixes: dict[str, str] = {}
    for name in targets:
        first, last = min(keys[name], default=""), max(keys[name], default="")
        common = next(
            (first[:i] for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b),
            first[: len(last)],
        )
        prefix = re.split(r"\d", common, maxsplit=1)[0]
        if not prefix or prefix in prefixes:
            return {}
        after = len(prefix)
        if prefix[-1].isalnum() and not all(k[after : after + 1].isdigit() for k in keys[name]):
            return {}
        prefixes[prefix] = name
    if any(a != b and b.startswith(a) for a in prefixes for b in prefixes):
        return {}
    return prefixes


def _prefixed(ref: str, prefixes: dict[str, str]) -> str | None:
    return next((name for prefix, name in prefixes.items() if ref.startswith(prefix)), None)


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
    mapped = source.mapped_columns | {source.key.value} | event.source_columns
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
