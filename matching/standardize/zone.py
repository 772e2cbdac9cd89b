"""The standardized zone: one row per source record, canonical attributes, normalised once.

Reads `raw.<source>__<entity>`, keeps the latest version of each source key (a later file may
re-deliver a changed record), maps the source's columns onto canonical attributes and
standardises them. Matching, survivorship and events all read from here, never from raw.

`build_standardized` runs on a dataflow (`e360.dataflow`: DuckDB or Spark): the mapping is SQL,
and each standardiser (`vectorised`) is computed over a lookup relation of the distinct values
it reads, joined back, in rounds where one standardiser needs another's result (the phone
needs the country; the postcode the country the phone may give). It gives exactly what the
per-record path (`standardize_records`, kept for the preflight check's few rows and
`records.standardize_customer`/`standardize_product` for single records) gives, row for row.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from e360.config import E360Config, SourceConfig
from e360.dataflow import Dataflow, DuckDBDataflow
from e360.entities import record_id
from e360.lake import Lake
from e360.mappings import apply_mapping, is_template, parse
from e360.sql import quote
from e360.zones import standardized_schema, standardized_table_name
from matching.standardize import text_features
from matching.standardize.dates import timestamp
from matching.standardize.raw import register_latest_raw
from matching.standardize.records import (
    standardize_customer,
    standardize_product,
)
from matching.standardize.vectorised import register_standardisers


def standardize_records(
    name: str,
    source: SourceConfig,
    rows: list[dict[str, Any]],
    on_progress: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    standardize = _standardizer(source)
    out = []
    for i, row in enumerate(rows, start=1):
        canonical = apply_mapping(source.mapping, row)
        record = standardize(canonical)
        key = row[source.key]
        record["record_id"] = record_id(name, key)
        record["source"] = name
        record["source_key"] = key
        # No updated_at column: unknown, not "now" (which would win every recency rule).
        record["source_updated_at"] = (
            timestamp(row.get(source.updated_at)) if source.updated_at else None
        )
        record["_batch_id"] = row["_batch_id"]
        record["_ingested_at"] = row["_ingested_at"]
        out.append(record)
        if on_progress is not None and i % 5000 == 0:
            on_progress(5000)
    if on_progress is not None:
        on_progress(len(rows) % 5000)
    return out


def _standardizer(source: SourceConfig) -> Callable[[dict[str, Any]], dict[str, Any]]:
    if source.entity == "customer":
        return lambda record: standardize_customer(
            record, default_region=source.default_region, dayfirst=source.dayfirst
        )
    return standardize_product


def build_standardized(
    config: E360Config,
    lake: Lake,
    entity: str,
    on_progress: Callable[[int], None] | None = None,
    flow: Dataflow | None = None,
) -> pa.Table:
    """Rebuild `standardized.<entity>` from every source of the entity; returns it.

    Runs on `flow` (the pipeline passes the configured engine's; alone, embedded DuckDB):
    SQL over the newest raw version of each key, the standardisers called once per distinct
    value. Rows are in source order (the configuration's), then landing order within a source.
    """
    own = flow is None
    flow = flow if flow is not None else DuckDBDataflow()
    try:
        table = standardized_table(flow, lake, entity, config.sources_of(entity), on_progress)
    finally:
        if own and isinstance(flow, DuckDBDataflow):
            flow.close()
    lake.replace(
        "standardized",
        standardized_table_name(entity),
        table,
        description=f"Standardized {entity} records: one row per source record",
    )
    return table


def standardized_table(
    flow: Dataflow,
    lake: Lake,
    entity: str,
    sources: Mapping[str, SourceConfig],
    on_progress: Callable[[int], None] | None = None,
) -> pa.Table:
    """The standardized rows of an entity's sources, computed on `flow` (see above)."""
    schema = standardized_schema(entity)
    if not sources:
        return schema.empty_table()
    register_standardisers(flow)
    attributes = STANDARDIZED_ATTRIBUTES[entity]
    selects = []
    for order, (name, source) in enumerate(sources.items()):
        relation = f"{entity}__latest_{order}"
        rows = register_latest_raw(flow, lake, name, source, relation)
        columns = flow.to_arrow(f"select * from {quote(relation)} limit 0").column_names
        selects.append(mapped_sql(relation, columns, order, name, source, attributes))
        if on_progress is not None:
            on_progress(rows)
    flow.create_table(f"{entity}__mapped", ordered_sql(selects))
    last = (customer_rounds if entity == "customer" else product_rounds)(flow, entity)
    result = flow.to_arrow(f"select * from {quote(last)} order by _order")
    for relation in [f"{entity}__latest_{i}" for i in range(len(sources))]:
        flow.drop(relation)
    return result.select(schema.names).cast(schema)


CUSTOMER_ATTRIBUTES = (
    "first_name", "middle_name", "last_name", "full_name", "date_of_birth", "gender", "email",
    "phone", "address_line1", "address_line2", "city", "postcode", "region", "country",
    "national_id", "company_name",
)  # fmt: skip
PRODUCT_ATTRIBUTES = (
    "title", "brand", "manufacturer", "model_number", "gtin", "sku", "category",
    "description", "price", "currency",
)  # fmt: skip
STANDARDIZED_ATTRIBUTES = {"customer": CUSTOMER_ATTRIBUTES, "product": PRODUCT_ATTRIBUTES}
"""The canonical attributes standardisation reads, per entity (others a mapping names are
not standardised)."""


def _literal(value: str | None) -> str:
    return "cast(null as varchar)" if value is None else "'" + value.replace("'", "''") + "'"


def mapped_sql(
    relation: str,
    columns: Sequence[str],
    order: int,
    name: str,
    source: SourceConfig,
    attributes: Sequence[str],
) -> str:
    """SQL: one source's newest rows as canonical attribute values (`e360.mappings`), with
    their keys, lineage and the source's reading settings."""
    present = set(columns)

    def column(c: str, kind: str = "varchar") -> str:
        return quote(c) if c in present else f"cast(null as {kind})"

    key = quote(source.key)
    values = [
        f"{mapping_value_sql(source.mapping[a], present) if a in source.mapping else 'cast(null as varchar)'}"
        f" as {quote(a)}"
        for a in attributes
    ]
    updated = column(source.updated_at) if source.updated_at else "cast(null as varchar)"
    return f"""
        select {order} as _source_order, _landing_seq,
               {_literal(name)} as source, {key} as source_key,
               {_literal(name + ":")} || {key} as record_id,
               {", ".join(values)},
               {updated} as _updated_raw,
               {column("_batch_id")} as _batch_id,
               {column("_ingested_at", "timestamp")} as _ingested_at,
               {_literal(source.default_region)} as _default_region,
               {"true" if source.dayfirst else "false"} as _dayfirst
        from {quote(relation)}
    """


def mapping_value_sql(value: str, columns: set[str]) -> str:
    """SQL of one mapping value: a plain column as it is, a template rendered as
    `Template.render` does (parts trimmed, blank ones dropped with their separator)."""
    if not is_template(value):
        return quote(value) if value in columns else "cast(null as varchar)"
    template = parse(value)
    parts = [
        f"e360_strip({quote(p.column)})" if p.column in columns else "cast(null as varchar)"
        for p in template.parts
    ]
    pieces = []
    for i, (part, sql) in enumerate(zip(template.parts, parts, strict=True)):
        if i == 0 or not part.separator:
            pieces.append(f"coalesce({sql}, '')")
            continue
        earlier = f"coalesce({', '.join(parts[:i])})" if i > 1 else parts[0]
        pieces.append(
            f"(case when {sql} is null then '' when {earlier} is null then {sql}"
            f" else {_literal(part.separator)} || {sql} end)"
        )
    present = f"coalesce({', '.join(parts)})" if len(parts) > 1 else parts[0]
    body = " || ".join([_literal(template.prefix), *pieces, _literal(template.suffix)])
    return f"(case when {present} is null then cast(null as varchar) else {body} end)"


def ordered_sql(selects: Sequence[str]) -> str:
    """SQL: every source's mapped rows, numbered in output order (`_order`)."""
    union = " union all ".join(f"({s})" for s in selects)
    return f"""
        select *, row_number() over (order by _source_order, _landing_seq) as _order
        from ({union}) mapped
    """


@dataclass(frozen=True)
class Lookup:
    """A standardiser's results over the distinct values of some columns: `keys` lists, per
    column group read, its key columns (several groups share one relation, as first, middle
    and last names do); `stages` are SQL over `k0`, `k1`... and earlier stages' columns."""

    name: str
    keys: tuple[tuple[str, ...], ...]
    stages: tuple[dict[str, str], ...]
    where: str | None = None


def lookup_sql(relation: str, lookup: Lookup) -> str:
    """SQL: relation `<entity>__<lookup>`, one row per distinct key of `relation`."""
    where = f" where {lookup.where}" if lookup.where else ""
    distinct = " union ".join(
        "select distinct "
        + ", ".join(f"{quote(c)} as k{i}" for i, c in enumerate(cols))
        + f" from {quote(relation)}{where}"
        for cols in lookup.keys
    )
    query = f"select * from ({distinct}) d"
    for n, stage in enumerate(lookup.stages):
        outputs = ", ".join(f"{sql} as {quote(c)}" for c, sql in stage.items())
        query = f"select *, {outputs} from ({query}) s{n}"
    return query


def round_sql(
    relation: str,
    joins: Sequence[tuple[str, str, tuple[str, ...]]],
    exprs: dict[str, str],
    keep: bool = True,
) -> str:
    """SQL: `relation` (as `t`) with the given lookups joined on their keys (alias, lookup
    relation, the columns of `t` read) and the given columns added."""
    joined = "".join(
        f" left join {quote(looked)} as {alias} on "
        + " and ".join(
            f"t.{quote(c)} is not distinct from {alias}.k{i}" for i, c in enumerate(cols)
        )
        for alias, looked, cols in joins
    )
    columns = ", ".join(f"{sql} as {quote(c)}" for c, sql in exprs.items())
    return f"select {'t.*, ' if keep else ''}{columns} from {quote(relation)} t{joined}"


def _run_round(
    flow: Dataflow,
    entity: str,
    source: str,
    target: str,
    lookups: Sequence[Lookup],
    uses: Sequence[tuple[str, str, tuple[str, ...]]],
    exprs: dict[str, str],
    keep: bool = True,
) -> str:
    """Compute the lookups over `source`, then `target`: `source` with them joined (`uses`:
    alias, lookup name, columns) and `exprs` added; the lookups are dropped."""
    for lookup in lookups:
        flow.create_table(f"{entity}__{lookup.name}", lookup_sql(f"{entity}__{source}", lookup))
    joins = [(alias, f"{entity}__{name}", cols) for alias, name, cols in uses]
    flow.create_table(f"{entity}__{target}", round_sql(f"{entity}__{source}", joins, exprs, keep))
    for lookup in lookups:
        flow.drop(f"{entity}__{lookup.name}")
    flow.drop(f"{entity}__{source}")
    return f"{entity}__{target}"


def _shown(display: str, standardised: str) -> str:
    """SQL of `records._shown`: no display without a standardised value."""
    return (
        f"case when {standardised} is null then null else coalesce({display}, {standardised}) end"
    )


def _one(name: str, function: str, *columns: str, display: bool = False) -> Lookup:
    stage = {"v": f"{function}(k0)"}
    if display:
        stage["display"] = "e360_display(k0)"
    return Lookup(name, tuple((c,) for c in columns), (stage,))


def customer_rounds(flow: Dataflow, entity: str) -> str:
    """The customer columns of `records.standardize_customer`, in three rounds of lookups
    (each round reads what the one before standardised)."""
    split = {f"m{i}": f"e360_split_name(k0, {i})" for i in range(3)}
    split |= {f"d{i}": f"e360_split_name(k0, {i + 3})" for i in range(3)}
    parts = ("first", "middle", "last")
    exprs: dict[str, str] = {}
    need_split = "(fn.v is null or ln.v is null)"
    for i, (part, alias) in enumerate(zip(parts, ("fn", "mn", "ln"), strict=True)):
        fill = f"({need_split} and {alias}.v is null and fl.m{i} is not null)"
        exprs[f"s_{part}_raw"] = f"case when {fill} then fl.m{i} else {alias}.v end"
        exprs[f"s_{part}_shown"] = (
            f"case when {fill} then fl.d{i} else {_shown(f'{alias}.display', f'{alias}.v')} end"
        )
    own = {"address_line1": "a1", "address_line2": "a2", "city": "ci", "region": "re",
           "company_name": "cn"}  # fmt: skip
    for attribute, alias in own.items():
        exprs[f"s_{attribute}"] = f"{alias}.v"
        exprs[f"s_{attribute}_display"] = _shown(f"{alias}.display", f"{alias}.v")
    exprs |= {
        "s_company_tokens": "cn.tokens",
        "s_country0": "co.v",
        "s_dob": "db.v",
        "s_gender": "ge.v",
        "s_email": "em.v",
        "s_national_id": "ni.v",
        "s_updated_at": "up.v",
    }
    company = Lookup(
        "company",
        (("company_name",),),
        (
            {"v": "e360_company(k0)", "display": "e360_display(k0)"},
            {"tokens": "e360_company_tokens(v)"},
        ),
    )
    _run_round(
        flow,
        entity,
        "mapped",
        "named",
        [
            _one("name", "e360_name", "first_name", "middle_name", "last_name", display=True),
            Lookup("full_name", (("full_name",),), (split,)),
            _one("country", "e360_country", "country"),
            Lookup("dob", (("date_of_birth", "_dayfirst"),), ({"v": "e360_date(k0, k1)"},)),
            _one("gender", "e360_gender", "gender"),
            _one("email", "e360_email", "email"),
            _one("address", "e360_address", "address_line1", "address_line2", display=True),
            _one("text", "e360_clean", "city", "region", display=True),
            _one("national_id", "e360_identifier", "national_id"),
            company,
            _one("updated", "e360_timestamp", "_updated_raw"),
        ],
        [
            ("fn", "name", ("first_name",)),
            ("mn", "name", ("middle_name",)),
            ("ln", "name", ("last_name",)),
            ("fl", "full_name", ("full_name",)),
            ("co", "country", ("country",)),
            ("db", "dob", ("date_of_birth", "_dayfirst")),
            ("ge", "gender", ("gender",)),
            ("em", "email", ("email",)),
            ("a1", "address", ("address_line1",)),
            ("a2", "address", ("address_line2",)),
            ("ci", "text", ("city",)),
            ("re", "text", ("region",)),
            ("ni", "national_id", ("national_id",)),
            ("cn", "company", ("company_name",)),
            ("up", "updated", ("_updated_raw",)),
        ],
        exprs,
    )
    phone = Lookup(
        "phone",
        (("phone", "s_country0", "_default_region"),),
        ({"v": "e360_phone(k0, k1, k2)"}, {"country": "e360_phone_country(v)"}),
    )
    _run_round(
        flow,
        entity,
        "named",
        "placed",
        [_one("nickname", "e360_nickname", "s_first_raw"), phone],
        [
            ("nk", "nickname", ("s_first_raw",)),
            ("ph", "phone", ("phone", "s_country0", "_default_region")),
        ],
        {"s_first": "nk.v", "s_phone": "ph.v", "s_country": "coalesce(t.s_country0, ph.country)"},
    )
    postcode = Lookup(
        "postcode",
        (("postcode", "s_country"),),
        ({"v": "e360_postcode(k0, k1)"}, {"area": "e360_postcode_area(v, k1)"}),
    )
    shown = [f"s_{p}_shown" for p in parts]
    final = {
        "first_name": "s_first",
        "first_name_raw": "s_first_raw",
        "middle_name": "s_middle_raw",
        "last_name": "s_last_raw",
        "full_name": "nullif(concat_ws(' ', s_first, s_middle_raw, s_last_raw), '')",
        "date_of_birth": "s_dob",
        "gender": "s_gender",
        "email": "s_email",
        "phone": "s_phone",
        "address_line1": "s_address_line1",
        "address_line2": "s_address_line2",
        "city": "s_city",
        "postcode": "pc.v",
        "region": "s_region",
        "country": "s_country",
        "national_id": "s_national_id",
        "email_user": "substring(s_email, 1, strpos(s_email, '@') - 1)",
        "postcode_area": "pc.area",
        "dob_year": "cast(year(s_dob) as integer)",
        "name_sort": "ns.v",
        "first_name_phonetic": "pf.v",
        "last_name_phonetic": "pl.v",
        "company_name": "s_company_name",
        "company_name_tokens": "s_company_tokens",
        "first_name_display": shown[0],
        "middle_name_display": shown[1],
        "last_name_display": shown[2],
        "full_name_display": f"nullif(concat_ws(' ', {', '.join(shown)}), '')",
        **{f"{a}_display": f"s_{a}_display" for a in own},
        "source_updated_at": "s_updated_at",
    }
    return _run_round(
        flow,
        entity,
        "placed",
        "standardised",
        [
            postcode,
            _one("phonetic", "e360_phonetic", "s_first", "s_last_raw"),
            Lookup("name_sort", (("s_first", "s_last_raw"),), ({"v": "e360_name_sort(k0, k1)"},)),
        ],
        [
            ("pc", "postcode", ("postcode", "s_country")),
            ("pf", "phonetic", ("s_first",)),
            ("pl", "phonetic", ("s_last_raw",)),
            ("ns", "name_sort", ("s_first", "s_last_raw")),
        ],
        _zone_columns(entity, final),
        keep=False,
    )


def _zone_columns(entity: str, computed: dict[str, str]) -> dict[str, str]:
    """The zone's columns in order, then `_order`: keys and lineage as the rows carry them."""
    carried = ("record_id", "source", "source_key", "_batch_id", "_ingested_at", "_order")
    names = [*standardized_schema(entity).names, "_order"]
    return {n: f"t.{quote(n)}" if n in carried else computed[n] for n in names}


def product_rounds(flow: Dataflow, entity: str) -> str:
    """The product columns of `records.standardize_products`: each product's own, then what
    needs the whole batch (brands read from titles, embeddings)."""
    own = {"title": "ti", "brand": "br", "manufacturer": "ma", "category": "ca",
           "description": "de"}  # fmt: skip
    exprs: dict[str, str] = {}
    for attribute, alias in own.items():
        exprs[f"s_{attribute}"] = f"{alias}.v"
        exprs[f"s_{attribute}_display"] = _shown(f"{alias}.display", f"{alias}.v")
    exprs |= {
        "s_model0": "mo.v",
        "s_gtin": "gt.v",
        "s_sku": "sk.v",
        "s_price": "pr.v",
        # "£12.99" carries its own currency
        "s_currency": "coalesce(cu.v, pr.currency)",
        "s_updated_at": "up.v",
    }
    _run_round(
        flow,
        entity,
        "mapped",
        "cleaned",
        [
            _one("text", "e360_clean", *own, display=True),
            _one("model", "e360_model_number", "model_number"),
            _one("gtin", "e360_first_gtin", "gtin"),
            _one("sku", "e360_identifier", "sku"),
            Lookup(
                "price", (("price",),), ({"v": "e360_price(k0)", "currency": "e360_currency(k0)"},)
            ),
            _one("currency", "e360_currency", "currency"),
            _one("updated", "e360_timestamp", "_updated_raw"),
        ],
        [
            *((alias, "text", (attribute,)) for attribute, alias in own.items()),
            ("mo", "model", ("model_number",)),
            ("gt", "gtin", ("gtin",)),
            ("sk", "sku", ("sku",)),
            ("pr", "price", ("price",)),
            ("cu", "currency", ("currency",)),
            ("up", "updated", ("_updated_raw",)),
        ],
        exprs,
    )
    no_model = "s_model0 is null and s_title is not null"
    _run_round(
        flow,
        entity,
        "cleaned",
        "modelled",
        [
            Lookup(
                "extracted",
                (("s_title", "s_brand"),),
                ({"v": "e360_extract_model_number(k0, k1)"},),
                where=no_model,
            ),
            Lookup("colour", (("s_title", "model_number"),), ({"v": "e360_colour(k0, k1)"},)),
        ],
        [
            ("ex", "extracted", ("s_title", "s_brand")),
            ("cl", "colour", ("s_title", "model_number")),
        ],
        {
            "s_model": f"case when {no_model} then ex.v else s_model0 end",
            "s_model_from_title": f"{no_model} and ex.v is not null",
            "s_colour": "cl.v",
        },
    )
    register_brand_vocabulary(flow, entity, f"{entity}__modelled")
    brands = f"(select vocabulary from {quote(entity + '__vocabulary')})"
    leading = f"(select no_brand_column from {quote(entity + '__vocabulary')})"
    brand = "coalesce(s_brand, fd.v)"
    _run_round(
        flow,
        entity,
        "modelled",
        "branded",
        [
            Lookup(
                "tokens",
                (("s_title", "s_brand", "s_manufacturer", "s_model"),),
                ({"v": "e360_title_tokens(k0, k1, k2, k3)"},),
            ),
            Lookup(
                "found",
                (("s_title", "s_description"),),
                ({"v": f"e360_brand_from_text(k0, k1, {brands}, {leading})"},),
                where="s_brand is null",
            ),
        ],
        [
            ("tk", "tokens", ("s_title", "s_brand", "s_manufacturer", "s_model")),
            ("fd", "found", ("s_title", "s_description")),
        ],
        {
            "s_title_tokens": "tk.v",
            "s_found": "case when s_brand is null then fd.v end",
            "s_brand_final": brand,
            "s_embedding_text": (
                f"case when s_title is null then null when {brand} is null or {brand} = ''"
                f" or strpos(s_title, {brand}) > 0 then s_title else {brand} || ' ' || s_title end"
            ),
        },
    )
    shown = f"(select shown from {quote(entity + '__vocabulary')})"
    written = ("s_found", "s_title_display", "s_description_display")
    features = ("s_title", "s_description", "s_brand_final", "s_manufacturer")
    final = {
        "title": "s_title",
        "brand": "s_brand_final",
        "manufacturer": "s_manufacturer",
        "model_number": "s_model",
        "gtin": "s_gtin",
        "sku": "s_sku",
        "category": "s_category",
        "description": "s_description",
        "price": "s_price",
        "currency": "s_currency",
        "model_number_from_title": "s_model_from_title",
        "title_tokens": "s_title_tokens",
        "colour": "s_colour",
        "title_weighted": "ft.v[1]",
        "text_tokens": "ft.v[2]",
        "units": "ft.v[3]",
        "title_lsh": "ft.lsh",
        "title_embedding": "cast(eb.v as float[])",
        "title_display": "s_title_display",
        "brand_display": "case when s_found is not null then wr.v else s_brand_display end",
        "manufacturer_display": "s_manufacturer_display",
        "category_display": "s_category_display",
        "description_display": "s_description_display",
        "source_updated_at": "s_updated_at",
    }
    result = _run_round(
        flow,
        entity,
        "branded",
        "standardised",
        [
            Lookup(
                "written",
                (written,),
                ({"v": f"e360_brand_as_written(k0, k1, k2, {shown})"},),
                where="s_found is not null",
            ),
            Lookup(
                "free_text",
                (features,),
                ({"v": "e360_free_text(k0, k1, k2, k3)"}, {"lsh": "e360_lsh(v[4], v[5])"}),
            ),
            Lookup("embedding", (("s_embedding_text",),), ({"v": "e360_embedding(k0)"},)),
        ],
        [
            ("wr", "written", written),
            ("ft", "free_text", features),
            ("eb", "embedding", ("s_embedding_text",)),
        ],
        _zone_columns(entity, final),
        keep=False,
    )
    flow.drop(f"{entity}__vocabulary")
    return result


def register_brand_vocabulary(flow: Dataflow, entity: str, relation: str) -> None:
    """Relation `<entity>__vocabulary`, one row: the batch's brand vocabulary (JSON pairs,
    `text_features.brand_vocabulary` over the brands in record order) and whether no record
    has a brand at all, and how each brand is shown where the data first writes it. Distinct
    brands only reach Python."""
    first = flow.to_arrow(
        f"""select s_brand, s_brand_display from (
                select s_brand, s_brand_display, _order,
                       row_number() over (partition by s_brand order by _order) as n
                from {quote(relation)} where s_brand is not null
            ) b where n = 1 order by _order"""
    )
    brands = first.column(0).to_pylist()
    vocabulary = text_features.brand_vocabulary(brands)
    shown = dict(zip(brands, first.column(1).to_pylist(), strict=True))
    flow.register(
        f"{entity}__vocabulary",
        pa.table(
            {
                "vocabulary": [json.dumps(list(vocabulary.items()))],
                "no_brand_column": [not vocabulary],
                "shown": [json.dumps([[b, d] for b, d in shown.items() if d is not None])],
            }
        ),
    )
