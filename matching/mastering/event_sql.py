"""SQL of event conformance (DuckDB dialect, run on either engine by `e360.dataflow`).

One function per relation, named after it, each a pure function of the source's settings and
the names of the relations it reads. The relations of one event source, in order:

- `mapped`: the newest raw row of each key mapped onto the event attributes (text);
- `timestamps`, `quantities`, `amounts`, `currencies`: the distinct values SQL cannot parse
  itself, parsed once each by a vectorised UDF (`event_udfs`);
- `typed`: every row typed, with why it cannot conform (type, timestamp) if it cannot;
- `referenced`: conformable rows with the records their references name;
- `resolved`: those with master ids, and why a reference resolves to no record;
- `events`, `rejects`: what `conformed.events` and `conformed.event_rejects` receive.

Text is trimmed as Python's `str.strip` trims (the same whitespace, Unicode included), so a
value reads the same here as it did row by row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from e360.config import EventReference, SourceConfig
from e360.mappings import is_template, parse
from e360.sql import quote
from matching.mastering.event_udfs import AMOUNT_UDF, CURRENCY_UDF, QUANTITY_UDF, TIMESTAMP_UDF

Entity = Literal["customer", "product"]
ENTITIES: tuple[Entity, ...] = ("customer", "product")
WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
# A regular expression, not trim(x, chars): DuckDB's trim with a character set is ~5x slower.
_SPACE = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE) + "]"
_ENDS = f"^{_SPACE}+|{_SPACE}+$"
# Numbers both SQL engines and Python's float() read alike; anything else goes to Python.
PLAIN_NUMBER = r"^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$"
# ISO timestamps both SQL casts and `datetime.fromisoformat` read alike, naive or UTC (`Z`).
PLAIN_TIMESTAMP = (
    r"^(19|20)[0-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"([T ]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?Z?)?$"
)
_INT64_BOUND = "9223372036854775808.0"  # 2**63: doubles below it truncate into a bigint
_MAX_DOUBLE = "1.7976931348623157e308"


@dataclass(frozen=True)
class EventRelations:
    """The relation names of one event source's conformance."""

    prefix: str

    def __getattr__(self, stage: str) -> str:
        if stage.startswith("_"):
            raise AttributeError(stage)
        return f"{self.prefix}__{stage}"


def literal(text: str) -> str:
    """`text` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def strip(expression: str) -> str:
    """SQL: `expression` trimmed as `str.strip` trims."""
    return f"regexp_replace({expression}, {literal(_ENDS)}, '', 'g')"


def column(name: str | None, columns: Sequence[str]) -> str:
    """SQL reading source column `name` as text; null where the source has no such column."""
    if name is None or name not in columns:
        return "cast(null as varchar)"
    return f"cast({quote(name)} as varchar)"


def mapping_value(value: str | None, columns: Sequence[str]) -> str:
    """SQL of one mapping value (`e360.mappings.value_of`): a plain column as it is, a
    template's present (trimmed, non-blank) columns joined by their separators."""
    if value is None or not is_template(value):
        return column(value, columns)
    template = parse(value)
    present = [f"nullif({strip(column(p.column, columns))}, '')" for p in template.parts]
    pieces = []
    for i, (part, value_sql) in enumerate(zip(template.parts, present, strict=True)):
        separator = literal(part.separator)
        if i:
            earlier = f"coalesce({', '.join(present[:i])})"
            separator = f"case when {earlier} is not null then {separator} else '' end"
        pieces.append(
            f"coalesce({separator} || {value_sql}, '')" if i else f"coalesce({value_sql}, '')"
        )
    rendered = " || ".join([literal(template.prefix), *pieces, literal(template.suffix)])
    return f"case when coalesce({', '.join(present)}) is not null then {rendered} end"


def mapped_sql(source: SourceConfig, latest: str, columns: Sequence[str]) -> str:
    """SQL: relation `mapped`, one row per row of `latest` (`register_latest_raw`): the event
    attributes as text, and the values SQL parses itself (`*_plain`; null: Python's turn)."""
    assert source.event is not None
    settings = source.event

    def mapped(attribute: str) -> str:
        return mapping_value(source.mapping.get(attribute), columns)

    row = "cast(_row as bigint)" if "_row" in columns else "cast(null as bigint)"
    systems = [
        f"{column(settings.reference(e).source_column, columns)} as {e}_system" for e in ENTITIES
    ]
    quantity = "quantity_number"
    return f"""
        select *, {plain_timestamp("occurred_at_text")} as occurred_at_plain,
               case when {quantity} > -{_INT64_BOUND} and {quantity} < {_INT64_BOUND}
                    then cast(trunc({quantity}) as bigint) end as quantity_plain,
               {plain_double("amount_text")} as amount_plain
        from (
            select _landing_seq, {column(source.key, columns)} as source_key,
                   {column("_file", columns)} as _file, {row} as _row,
                   {strip(f"coalesce({column(settings.type_column, columns)}, '')")} as type_text,
                   {mapped("occurred_at")} as occurred_at_text,
                   {mapped("channel")} as channel_text,
                   nullif({strip(mapped("customer_ref"))}, '') as customer_ref,
                   nullif({strip(mapped("product_ref"))}, '') as product_ref,
                   {mapped("quantity")} as quantity_text,
                   {plain_double(mapped("quantity"))} as quantity_number,
                   {mapped("amount")} as amount_text,
                   {mapped("currency")} as currency_text,
                   {", ".join(systems)}
            from {quote(latest)}
        ) texts
    """


def plain_timestamp(text: str) -> str:
    """SQL: the timestamp `text` spells when it is a plain ISO one, else null."""
    stripped = strip(text)
    plain = f"replace(replace({stripped}, 'T', ' '), 'Z', '')"
    return (
        f"case when regexp_matches({stripped}, {literal(PLAIN_TIMESTAMP)})"
        f" then try_cast({plain} as timestamp) end"
    )


def plain_double(text: str) -> str:
    """SQL: the finite double `text` spells when it is a plain decimal, else null."""
    stripped = strip(text)
    number = f"try_cast({stripped} as double)"
    return (
        f"case when regexp_matches({stripped}, {literal(PLAIN_NUMBER)})"
        f" and abs({number}) <= {_MAX_DOUBLE} then {number} end"
    )


def parsed_values_sql(mapped: str, value: str, udf: str) -> str:
    """SQL: the distinct `<value>_text` of `mapped` that SQL left unparsed (`<value>_plain`
    null), each parsed once by `udf`: the relations `timestamps`, `quantities`, ..."""
    plain = f"{value}_plain"
    return f"""
        select value, {udf}(value) as parsed
        from (select distinct {value}_text as value from {quote(mapped)}
              where {value}_text is not null and {plain} is null) odd
    """


def timestamps_sql(mapped: str) -> str:
    return parsed_values_sql(mapped, "occurred_at", TIMESTAMP_UDF.name)


def quantities_sql(mapped: str) -> str:
    return parsed_values_sql(mapped, "quantity", QUANTITY_UDF.name)


def amounts_sql(mapped: str) -> str:
    return parsed_values_sql(mapped, "amount", AMOUNT_UDF.name)


def currencies_sql(mapped: str) -> str:
    return f"""
        select value, {CURRENCY_UDF.name}(value) as parsed
        from (select distinct currency_text as value from {quote(mapped)}
              where currency_text is not null) odd
    """


def event_type(name: str, source: SourceConfig) -> str:
    """SQL: the conformed event type of a `mapped` row (null: its type is not in the map)."""
    assert source.event is not None
    settings = source.event
    if settings.type is not None:
        return literal(settings.type)
    if not settings.type_map:
        return "cast(null as varchar)"
    whens = " ".join(
        f"when {literal(raw)} then {literal(conformed)}"
        for raw, conformed in settings.type_map.items()
    )
    return f"case m.type_text {whens} end"


def typed_sql(name: str, source: SourceConfig, relations: EventRelations) -> str:
    """SQL: relation `typed`, every `mapped` row typed, `problem` saying why it cannot conform."""
    kind = event_type(name, source)
    type_problem = (
        f"'event type ''' || m.type_text || ''' is not in sources.' || {literal(name)}"
        " || '.event.type_map'"
    )
    occurred_at = "coalesce(m.occurred_at_plain, t.parsed)"
    time_problem = (
        "'occurred_at ''' || coalesce(m.occurred_at_text, 'None') || ''' is not a timestamp'"
    )
    return f"""
        select m.*, {kind} as event_type, {occurred_at} as occurred_at,
               coalesce(m.quantity_plain, q.parsed) as quantity,
               coalesce(m.amount_plain, a.parsed) as amount,
               c.parsed as currency,
               case when {kind} is null then {type_problem}
                    when {occurred_at} is null then {time_problem} end as problem
        from {quote(relations.mapped)} m
        left join {quote(relations.timestamps)} t on t.value = m.occurred_at_text
        left join {quote(relations.quantities)} q on q.value = m.quantity_text
        left join {quote(relations.amounts)} a on a.value = m.amount_text
        left join {quote(relations.currencies)} c on c.value = m.currency_text
    """


def reference_source(reference: EventReference) -> str:
    """SQL: the source a row's reference points into, null where it names none configured."""
    entity = reference.entity
    key = f"{entity}_ref"
    if reference.key_prefixes:
        whens = " ".join(
            f"when starts_with({key}, {literal(prefix)}) then {literal(name)}"
            for prefix, name in reference.key_prefixes.items()  # never overlapping (checks.py)
        )
        return f"case {whens} end"
    if reference.source_column is not None:
        system = strip(f"{entity}_system")
        named = system
        if reference.source_map:
            whens = " ".join(
                f"when {literal(value)} then {literal(name)}"
                for value, name in reference.source_map.items()
            )
            named = f"case {system} {whens} else {system} end"
        known = ", ".join(literal(s) for s in reference.sources)
        return f"case when {named} in ({known}) then {named} end"
    return literal(reference.sources[0])


def reference_key(reference: EventReference) -> str:
    """SQL: the key a row's reference names in its source (its prefix removed if configured)."""
    key = f"{reference.entity}_ref"
    if not reference.strip_prefix or not reference.key_prefixes:
        return key
    whens = " ".join(
        f"when starts_with({key}, {literal(prefix)}) then substr({key}, {len(prefix) + 1})"
        for prefix in reference.key_prefixes
    )
    return f"case {whens} else {key} end"


def referenced_sql(source: SourceConfig, typed: str) -> str:
    """SQL: relation `referenced`, the conformable `typed` rows and the record id each
    reference names (`<source>:<key>`; null: empty, or naming no configured source)."""
    assert source.event is not None
    ids = []
    for entity in ENTITIES:
        reference = source.event.reference(entity)
        if reference.sources:
            ids.append(
                f"{reference_source(reference)} || ':' || {reference_key(reference)}"
                f" as {entity}_record_id"
            )
        else:  # the source takes no such references (checks.py)
            ids.append(f"cast(null as varchar) as {entity}_record_id")
    return f"select *, {', '.join(ids)} from {quote(typed)} where problem is null"


def unresolved(reference: EventReference) -> str:
    """SQL: why a `resolved` row's non-empty reference names no record (null when it does)."""
    entity = reference.entity
    ref = f"'{entity}_ref ''' || r.{entity}_ref || ''''"
    record = f"r.{entity}_record_id"
    sources = ", ".join(reference.sources)
    in_source = (
        f"{ref} || ': no ' || split_part({record}, ':', 1) || ' record ' || {record}"
        f" || {literal(f' (not landed, quarantined, or not mastered yet); {entity} sources: {sources}')}"
    )
    if reference.key_prefixes:
        prefixes = ", ".join(f"'{p}' ({s})" for p, s in reference.key_prefixes.items())
        no_source = f"{ref} || {literal(f' starts with none of the key prefixes {prefixes}')}"
    else:
        value = f"nullif({strip(f'r.{entity}_system')}, '')"
        named = f"coalesce('''' || {value} || '''', 'nothing')"
        no_source = (
            f"{ref} || {literal(f': {reference.source_column} names ')} || {named}"
            f" || {literal(f', none of the {entity} sources {sources}')}"
        )
    return (
        f"case when r.{entity}_ref is null or {entity}_masters.master_id is not null then null"
        f" when {record} is not null then {in_source} else {no_source} end"
    )


def resolved_sql(source: SourceConfig, referenced: str, masters: dict[Entity, str]) -> str:
    """SQL: relation `resolved`, `referenced` rows with their master ids (from the relations
    `masters` names: record_id, master_id) and, per entity, why a reference names no record."""
    assert source.event is not None
    selects, joins = [], []
    for entity in ENTITIES:
        reference = source.event.reference(entity)
        alias = f"{entity}_masters"
        selects.append(f"{alias}.master_id as {entity}_master_id")
        problem = unresolved(reference) if reference.sources else "cast(null as varchar)"
        selects.append(f"{problem} as {entity}_problem")
        joins.append(
            f"left join {quote(masters[entity])} {alias}"
            f" on {alias}.record_id = r.{entity}_record_id"
        )
    return f"select r.*, {', '.join(selects)} from {quote(referenced)} r {' '.join(joins)}"


def events_sql(name: str, source: SourceConfig, resolved: str, run_id: str) -> str:
    """SQL: relation `events`, rows of `conformed.events` (and `_landing_seq`, their order)."""
    assert source.event is not None
    return f"""
        select {literal(name)} || ':' || source_key as event_id, event_type,
               cast(occurred_at as timestamp) as occurred_at, {literal(name)} as source,
               coalesce(nullif(channel_text, ''), {literal(source.event.channel)}) as channel,
               customer_record_id as customer_ref, product_record_id as product_ref,
               customer_master_id, product_master_id, quantity, amount, currency,
               {literal(run_id)} as run_id, _landing_seq
        from {quote(resolved)}
        where customer_problem is null and product_problem is null
    """


def rejects_sql(name: str, typed: str, resolved: str, run_id: str) -> str:
    """SQL: relation `rejects`, rows of `conformed.event_rejects`: rows that could not conform,
    then rows whose references name no record, each in landing order (`_stage`, `_landing_seq`)."""
    common = f"{literal(name)} as source, source_key, _file, _row"
    return f"""
        select {common}, problem as reason, {literal(run_id)} as run_id,
               0 as _stage, _landing_seq
        from {quote(typed)} where problem is not null
        union all
        select {common}, concat_ws('; ', customer_problem, product_problem) as reason,
               {literal(run_id)} as run_id, 1 as _stage, _landing_seq
        from {quote(resolved)}
        where customer_problem is not null or product_problem is not null
    """


def event_counts_sql(resolved: str) -> str:
    """SQL: one row, the conformed and unresolved counts of `resolved`."""
    ok = "customer_problem is null and product_problem is null"
    return f"""
        select count(case when {ok} then 1 end) as conformed,
               count(case when {ok} then customer_master_id end) as with_customer_master,
               count(case when {ok} then product_master_id end) as with_product_master,
               count(customer_problem) as unresolved_customer,
               count(product_problem) as unresolved_product
        from {quote(resolved)}
    """
