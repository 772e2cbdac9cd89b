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
from collections.abc import Mapping, Sequence

from e360.config import CustomRule, SurvivorshipRule
from e360.sql import quote

_RECENT = "source_updated_at desc nulls last"
_PRIORITY = "_source_rank asc"
_ORDER_BY: dict[str, list[str]] = {
    "source_priority": [_PRIORITY, _RECENT],
    "most_recent": [_RECENT, _PRIORITY],
    "most_complete": ["length(cast({col} as varchar)) desc", _RECENT, _PRIORITY],
    "most_frequent": ["{frequency} desc", _RECENT, _PRIORITY],
    "non_null_first": ["_ingested_at asc", "source_updated_at asc nulls last", _PRIORITY],
}


def rule_name(rule: SurvivorshipRule) -> str:
    return "custom" if isinstance(rule, CustomRule) else rule


def order_by(rule: SurvivorshipRule, column: str) -> str:
    if isinstance(rule, CustomRule):
        direction = "desc" if rule.descending else "asc"
        keys = [f"({rule.expression}) {direction} nulls last", _RECENT, _PRIORITY]
    else:
        keys = [
            key.format(col=quote(column), frequency=quote(column + "__frequency"))
            for key in _ORDER_BY[rule]
        ]
    return ", ".join([*keys, "record_id asc"])


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


def picked_members_sql(
    ranked_members: str, attributes: Sequence[str], rules: Mapping[str, SurvivorshipRule]
) -> str:
    """Ranked members numbered, per attribute, in its rule's order within their master:
    number 1 is the attribute's winner (members without a value come last)."""
    picks = [
        f"row_number() over (partition by master_id order by "
        f"case when {quote(a)} is null then 1 else 0 end, {order_by(rules[a], a)}) "
        f"as {quote(a + '__pick')}"
        for a in attributes
    ]
    extra = "".join(f",\n    {p}" for p in picks)
    return f"select *{extra}\nfrom {ranked_members}"


def provenance_sql(attributes: Sequence[str], rules: Mapping[str, SurvivorshipRule]) -> str:
    """A JSON object text: per attribute, the winning record, its source and the rule (null
    when no member has a value). Built from text, each record by `to_json`, so both engines
    write the same characters."""
    parts = []
    for attribute in attributes:
        record = quote(attribute + "__record")
        entry = (
            f"case when {record} is null then 'null' else cast(to_json(struct_pack("
            f"record_id := {record}, source := split_part({record}, ':', 1), "
            f"rule := '{rule_name(rules[attribute])}')) as varchar) end"
        )
        key = json.dumps(attribute).replace("'", "''")
        parts.append(f"'{key}:' || {entry}")
    if not parts:
        return "'{}'"
    return "'{' || " + " || ',' || ".join(parts) + " || '}'"


def golden_records_sql(
    ranked_members: str,
    attributes: Sequence[str],
    rules: Mapping[str, SurvivorshipRule],
    displays: Mapping[str, str] | None = None,
) -> str:
    """One row per master: each attribute's surviving value, plus a provenance JSON object.

    `displays`: attribute -> the column of its display value. An attribute's display value
    is the winning record's, the same record its value and provenance name: the one member
    numbered first for the attribute gives value, display value and record together.
    """
    displays = displays or {}
    winners, outputs = [], []
    for attribute in attributes:
        col, first = quote(attribute), f"{quote(attribute + '__pick')} = 1"
        taken = {col: col, quote(attribute + "__record"): "record_id"}
        if attribute in displays:
            taken[quote(displays[attribute])] = quote(displays[attribute])
        for alias, column in taken.items():
            winners.append(
                f"max(case when {first} and {col} is not null then {column} end) as {alias}"
            )
        outputs.append(col)
        if attribute in displays:
            outputs.append(quote(displays[attribute]))
    picked = picked_members_sql(ranked_members, attributes, rules)
    survivors = (
        "select master_id,\n    "
        + ",\n    ".join(winners)
        + (",\n    " if winners else "")
        + "count(*) as member_count,"
        + "\n    array_to_string(list_sort(list_distinct(list(source))), ',') as sources,"
        + "\n    min(_ingested_at) as first_seen_at,"
        + "\n    max(coalesce(source_updated_at, _ingested_at)) as updated_at"
        + f"\nfrom ({picked}) as picked\ngroup by master_id"
    )
    selected = "".join(f"{o}, " for o in outputs)
    return (
        f"select master_id, {selected}member_count, sources,\n"
        f"    {provenance_sql(attributes, rules)} as provenance,\n"
        f"    first_seen_at, updated_at\n"
        f"from ({survivors}) as survivors\norder by master_id"
    )
