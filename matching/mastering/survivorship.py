"""Golden records by per-attribute survivorship rules, each value with its provenance.

SQL is built by small pure functions, in DuckDB's dialect, and runs on the configured
engine's dataflow over the members of every master (standardized records plus their
master_id and the rank of their source).

Rules, and how ties break (always ending on record_id, so results are deterministic):
- source_priority: the first non-null value by the configured source order, then most recent
- most_recent:     the non-null value of the most recently updated record, then source order
- most_complete:   the longest non-null value, then most recent, then source order
- most_frequent:   the value most members agree on, then most recent, then source order
- non_null_first:  the value first seen (earliest ingested record having one), then source
                   order: a value once known is kept until its record loses it
- custom:          the member scoring highest on a configured SQL expression (or lowest),
                   then most recent, then source order

An attribute with a display value (`e360.zones.DISPLAY_ATTRIBUTES`) takes it from the record
its rule chose: the rules judge matching forms, people read the winner's own writing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

from e360.config import CustomRule, SurvivorshipRule
from e360.sql import quote

EPOCH = "cast('1970-01-01' as timestamp)"


class Term(NamedTuple):
    """One key of a rule's order, nulls last: an expression (`{col}`: the attribute's column,
    `{frequency}`: how many of the master's members have its value), its direction, and
    whether it is a timestamp (which may be null; other terms never are)."""

    expression: str
    descending: bool = False
    time: bool = False


_RECENT = Term("source_updated_at", descending=True, time=True)
_PRIORITY = Term("_source_rank")
_TERMS: dict[str, list[Term]] = {
    "source_priority": [_PRIORITY, _RECENT],
    "most_recent": [_RECENT, _PRIORITY],
    "most_complete": [Term("length(cast({col} as varchar))", descending=True), _RECENT, _PRIORITY],
    "most_frequent": [Term("{frequency}", descending=True), _RECENT, _PRIORITY],
    "non_null_first": [
        Term("_ingested_at", time=True),
        Term("source_updated_at", time=True),
        _PRIORITY,
    ],
}


def rule_name(rule: SurvivorshipRule) -> str:
    return "custom" if isinstance(rule, CustomRule) else rule


def custom_score_sql(rule: CustomRule) -> str:
    """A member's place in its master by a custom rule's expression alone (1: the best; ties
    share a place, members scoring null come last): the expression may be of any type, so
    its order is counted here and the rest of the rule's keys compare as numbers."""
    direction = "desc" if rule.descending else "asc"
    return (
        f"dense_rank() over (partition by master_id order by ({rule.expression}) "
        f"{direction} nulls last)"
    )


def terms(rule: SurvivorshipRule, custom_score: str | None = None) -> list[Term]:
    """A rule's order (`custom_score`: the quoted column of a custom rule's
    `custom_score_sql`)."""
    if isinstance(rule, CustomRule):
        if custom_score is None:
            raise ValueError("a custom rule orders by its score column")
        return [Term(custom_score), _RECENT, _PRIORITY]
    return _TERMS[rule]


def sort_key_sql(order: Sequence[Term], column: str) -> str:
    """One struct ordering the members as `order` then record_id, smallest first, the same on
    every engine: fields never null (a null timestamp is a flag, then 0), descending terms
    negated (timestamps as microseconds since the epoch)."""
    fields = []
    for i, term in enumerate(order):
        expression = term.expression.format(
            col=quote(column), frequency=quote(column + "__frequency")
        )
        if term.time:
            start, end = (expression, EPOCH) if term.descending else (EPOCH, expression)
            fields.append(f"k{i}n := {expression} is null")
            fields.append(f"k{i} := coalesce(date_diff('microsecond', {start}, {end}), 0)")
        else:
            fields.append(f"k{i} := {'-' if term.descending else ''}({expression})")
    return f"struct_pack({', '.join(fields)}, r := record_id)"


def source_rank_sql(source_priority: Sequence[str]) -> str:
    """Rank of a record's source; sources not listed rank after all listed ones."""
    if not source_priority:
        return "0"
    cases = " ".join(
        f"when '{s.replace(chr(39), chr(39) * 2)}' then {i}" for i, s in enumerate(source_priority)
    )
    return f"case source {cases} else {len(source_priority)} end"


def ranked_members_sql(
    members: str,
    attributes: Sequence[str],
    rules: Mapping[str, SurvivorshipRule],
    source_priority: Sequence[str],
) -> str:
    """Members with their source rank and, for most_frequent attributes, value frequencies."""
    frequencies = [
        f"count({quote(a)}) over (partition by master_id, {quote(a)}) as {quote(a + '__frequency')}"
        for a in attributes
        if rules[a] == "most_frequent"
    ]
    extra = "".join(f",\n    {f}" for f in frequencies)
    return (
        f"select *,\n    {source_rank_sql(source_priority)} as _source_rank{extra}\nfrom {members}"
    )


def keyed_members_sql(
    ranked_members: str, attributes: Sequence[str], rules: Mapping[str, SurvivorshipRule]
) -> tuple[str, dict[str, str]]:
    """Ranked members with each attribute's sort key (`sort_key_sql`), and the key's column of
    each attribute: attributes whose rules order alike share one key, computed once."""
    scores = [
        f"{custom_score_sql(rule)} as {quote(a + '__score')}"
        for a in attributes
        if isinstance(rule := rules[a], CustomRule)
    ]
    scored = (
        f"(select *, {', '.join(scores)} from {ranked_members}) as scored"
        if scores
        else ranked_members
    )
    keys: dict[str, str] = {}
    key_of = {}
    for a in attributes:
        key = sort_key_sql(terms(rules[a], quote(a + "__score")), a)
        key_of[a] = keys.setdefault(key, quote(f"__key{len(keys)}"))
    columns = "".join(f",\n    {key} as {alias}" for key, alias in keys.items())
    return f"select *{columns}\nfrom {scored}", key_of


def provenance_sql(
    attributes: Sequence[str],
    rules: Mapping[str, SurvivorshipRule],
    record_of: Callable[[str], str],
) -> str:
    """A JSON object text: per attribute, the winning record (`record_of(attribute)`: its
    record_id, null when no member has a value), its source and the rule. Built from text,
    each record by `to_json`, so both engines write the same characters; in one `concat`,
    since a chain of `||` copies the growing text once per piece."""
    parts = []
    for attribute in attributes:
        record = record_of(attribute)
        entry = (
            f"case when {record} is null then 'null' else cast(to_json(struct_pack("
            f"record_id := {record}, source := split_part({record}, ':', 1), "
            f"rule := '{rule_name(rules[attribute])}')) as varchar) end"
        )
        key = json.dumps(attribute).replace("'", "''")
        parts.append(f"'{key}:', {entry}")
    if not parts:
        return "'{}'"
    return "concat('{', " + ", ',', ".join(parts) + ", '}')"


def golden_records_sql(
    members: str,
    attributes: Sequence[str],
    rules: Mapping[str, SurvivorshipRule],
    source_priority: Sequence[str],
    displays: Mapping[str, str] | None = None,
) -> str:
    """One row per master of `members` (standardized rows plus master_id): each attribute's
    surviving value, plus a provenance JSON object.

    Each attribute's winner is its member with a value and the smallest sort key: one
    aggregate per attribute over the members grouped by master, no sort of the members.
    A master of one record is that record as it is, without the aggregate: on a large
    population they are nearly half of the masters.
    `displays`: attribute -> the column of its display value. An attribute's display value
    is the winning record's, the same record its value and provenance name: the aggregate
    picks value, display value and record together, so they never come from two records.
    """
    displays = displays or {}
    sized = (
        f"select m.*, s.__members from {members} m\n"
        f"join (select master_id, count(*) as __members from {members} group by master_id) s\n"
        "  on s.master_id = m.master_id"
    )
    return (
        f"with sized as ({sized})\n"
        f"{_single_member_masters_sql('sized', attributes, rules, displays)}\n"
        "union all\n"
        f"{_survivors_sql('sized', attributes, rules, source_priority, displays)}\n"
        "order by master_id"
    )


def _single_member_masters_sql(
    sized: str,
    attributes: Sequence[str],
    rules: Mapping[str, SurvivorshipRule],
    displays: Mapping[str, str],
) -> str:
    """The golden records of masters of one member: its own values, whatever the rules."""
    outputs = []
    for attribute in attributes:
        outputs.append(quote(attribute))
        if attribute in displays:
            outputs.append(quote(displays[attribute]))
    provenance = provenance_sql(
        attributes, rules, lambda a: f"case when {quote(a)} is not null then record_id end"
    )
    return (
        f"select master_id, {''.join(f'{o}, ' for o in outputs)}"
        "cast(1 as bigint) as member_count, coalesce(source, '') as sources,\n"
        f"    {provenance} as provenance,\n"
        "    _ingested_at as first_seen_at,\n"
        "    coalesce(source_updated_at, _ingested_at) as updated_at\n"
        f"from {sized} where __members = 1"
    )


def _survivors_sql(
    sized: str,
    attributes: Sequence[str],
    rules: Mapping[str, SurvivorshipRule],
    source_priority: Sequence[str],
    displays: Mapping[str, str],
) -> str:
    """The golden records of masters of two members or more, by their rules."""
    ranked = ranked_members_sql(
        f"(select * from {sized} where __members > 1) as shared", attributes, rules, source_priority
    )
    keyed, key_of = keyed_members_sql(f"({ranked}) as ranked", attributes, rules)
    winners, outputs = [], []
    for attribute in attributes:
        col, winner = quote(attribute), quote(attribute + "__winner")
        fields = [f"v := {col}", "r := record_id"]
        if attribute in displays:
            fields.append(f"d := {quote(displays[attribute])}")
        winners.append(
            f"arg_min(struct_pack({', '.join(fields)}), {key_of[attribute]}) "
            f"filter (where {col} is not null) as {winner}"
        )
        outputs.append(f"struct_extract({winner}, 'v') as {col}")
        if attribute in displays:
            outputs.append(f"struct_extract({winner}, 'd') as {quote(displays[attribute])}")
    survivors = (
        "select master_id,\n    "
        + "".join(f"{w},\n    " for w in winners)
        + "count(*) as member_count,"
        + "\n    array_to_string(list_sort(list_distinct(list(source))), ',') as sources,"
        + "\n    min(_ingested_at) as first_seen_at,"
        + "\n    max(coalesce(source_updated_at, _ingested_at)) as updated_at"
        + f"\nfrom ({keyed}) as keyed\ngroup by master_id"
    )
    provenance = provenance_sql(
        attributes, rules, lambda a: f"struct_extract({quote(a + '__winner')}, 'r')"
    )
    return (
        f"select master_id, {''.join(f'{o}, ' for o in outputs)}member_count, sources,\n"
        f"    {provenance} as provenance,\n"
        f"    first_seen_at, updated_at\n"
        f"from ({survivors}) as survivors"
    )
