"""Checks across sections that a schema alone cannot express: names that must refer to each
other (sources, entities, survivorship), columns that must exist, SQL that must parse and
read only known columns, probabilities that must nest, where each source is read from.

Each check returns problems as `<dotted.key>: <reason>`; loading blames each on its origin.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Any, Literal

import pyarrow as pa

from e360.config.entities import CustomRule, EntityConfig, MatchingConfig
from e360.config.keys import required_keys
from e360.config.project import E360Config
from e360.config.sources import SourceConfig
from e360.entities import (
    CANONICAL_ATTRIBUTES,
    CONFORMED_EVENT_TYPES,
    RECORD_KEY_COLUMNS,
    RECORD_LINEAGE_COLUMNS,
)
from e360.mappings import template_problem
from e360.sqlcheck import DuckDBBinder, pair_rule_problem, record_expression_problem
from e360.zones import STANDARDIZED_CUSTOMER_COLUMNS, STANDARDIZED_PRODUCT_COLUMNS


def cross_section_problems(config: E360Config, *, broken: Collection[str] = ()) -> list[str]:
    """Every problem across sections, as `<dotted.key>: <reason>` (none: the config holds).

    `broken` names the parts that failed validation (`deployment`, `sources.crm`, ...): they
    are absent from `config` (or at their defaults), and nothing is reported for referring
    to them, which would only repeat their own errors."""
    problems: list[str] = []

    def is_broken(key: str) -> bool:
        return key in broken or key.split(".", 1)[0] in broken

    missing_entities = sorted(
        e
        for e in ("customer", "product")
        if e not in config.entities and not is_broken(f"entities.{e}")
    )
    if missing_entities:
        # The enterprise layer (dim_customer, dim_product, fct_events) needs both masters.
        needed = ", ".join(required_keys(EntityConfig))
        problems.append(
            f"entities: configure both customer and product (missing {missing_entities}; "
            f"each needs {needed})"
        )
    typed_columns = {
        "customer": STANDARDIZED_CUSTOMER_COLUMNS,
        "product": STANDARDIZED_PRODUCT_COLUMNS,
    }
    standardized = {entity: {name for name, _ in cols} for entity, cols in typed_columns.items()}
    for name, source in config.sources.items():
        key = f"sources.{name}"
        if "__" in name or not name.replace("_", "").isalnum() or not name.islower():
            problems.append(f"{key}: source names are lower-case letters, digits and single '_'")
        unknown = sorted(set(source.mapping) - set(CANONICAL_ATTRIBUTES[source.entity]))
        if unknown:
            problems.append(
                f"{key}.mapping: {unknown} are not canonical {source.entity} attributes; "
                f"choose from {list(CANONICAL_ATTRIBUTES[source.entity])}"
            )
        for attribute, value in source.mapping.items():
            problem = template_problem(value)
            if problem:
                problems.append(f"{key}.mapping.{attribute}: {problem}")
        if source.entity == "event":
            problems.extend(_check_event_source(key, source, config, is_broken))
        elif source.event is not None:
            problems.append(f"{key}.event: only event sources take an event section")
        if (
            source.entity in ("customer", "product")
            and source.entity not in config.entities
            and not is_broken(f"entities.{source.entity}")
        ):
            problems.append(f"{key}.entity: no entities.{source.entity} section configures it")
        problems.extend(_check_location(key, source, config))
    for entity, settings in config.entities.items():
        key = f"entities.{entity}"
        for i, comparison in enumerate(settings.matching.comparisons):
            missing = [c for c in comparison.input_columns if c not in standardized[entity]]
            if not comparison.input_columns:
                problems.append(f"{key}.matching.comparisons.{i}: give `column` or `columns`")
            if missing:
                problems.append(
                    f"{key}.matching.comparisons.{i}: {missing} are not standardized {entity} "
                    f"columns; choose from {sorted(standardized[entity])}"
                )
        for attribute in settings.survivorship.attributes:
            if attribute not in CANONICAL_ATTRIBUTES[entity]:
                problems.append(f"{key}.survivorship.attributes.{attribute}: not an attribute")
        for source_name in settings.survivorship.source_priority:
            ranked = config.sources.get(source_name)
            if ranked is None and is_broken(f"sources.{source_name}"):
                continue
            if ranked is None or ranked.entity != entity:
                problems.append(
                    f"{key}.survivorship.source_priority: '{source_name}' is not a {entity} source"
                )
        problems.extend(_check_thresholds(f"{key}.matching", settings.matching))
        problems.extend(_check_sql(key, settings, typed_columns[entity], config.deployment))
    return problems


def _check_sql(
    key: str, settings: EntityConfig, attributes: Sequence[tuple[str, Any]], deployment: Any
) -> list[str]:
    """Every SQL fragment parses and reads only columns the standardized records have; on the
    DuckDB engine, DuckDB can also plan it (functions exist, types fit)."""
    typed = [
        *attributes,
        *((name, pa.string()) for name in RECORD_KEY_COLUMNS),
        ("source_updated_at", pa.timestamp("us")),
        ("_batch_id", pa.string()),
        ("_ingested_at", pa.timestamp("us")),
    ]
    record_columns = {name for name, _ in attributes} | set(RECORD_KEY_COLUMNS)
    member_columns = record_columns | set(RECORD_LINEAGE_COLUMNS)
    binder = DuckDBBinder.for_columns(typed) if deployment.engine.type == "duckdb" else None

    def pair(sql: str) -> str | None:
        problem = pair_rule_problem(sql, record_columns)
        return problem or (binder.pair_rule(sql) if binder else None)

    def record(sql: str, columns: set[str]) -> str | None:
        problem = record_expression_problem(sql, columns)
        return problem or (binder.record_expression(sql) if binder else None)

    problems: list[str] = []
    matching = settings.matching
    rule_lists = {
        "matching.blocking_rules": matching.blocking_rules,
        "matching.training.deterministic_rules": matching.training.deterministic_rules,
        "matching.training.em_blocking_rules": matching.training.em_blocking_rules,
    }
    for name, rules in rule_lists.items():
        for i, rule in enumerate(rules):
            if isinstance(rule, str):
                found = [(f"{key}.{name}.{i}", pair(rule))]
            else:
                found = [
                    (f"{key}.{name}.{i}.{j}", record(part, record_columns))
                    for j, part in enumerate(rule)
                ]
            problems.extend(f"{where}: {problem}" for where, problem in found if problem)
    for attribute, survivorship in settings.survivorship.attributes.items():
        if isinstance(survivorship, CustomRule):
            problem = record(survivorship.expression, member_columns)
            if problem:
                problems.append(f"{key}.survivorship.attributes.{attribute}.expression: {problem}")
    return problems


def _check_thresholds(key: str, matching: MatchingConfig) -> list[str]:
    """The probabilities must nest: stored pairs <= review band <= match threshold."""
    problems = []
    low, high = matching.review_band
    if matching.threshold != "auto" and high > matching.threshold:
        problems.append(
            f"{key}.review_band: the band {[low, high]} must lie below the match threshold "
            f"{matching.threshold}"
        )
    if matching.pairs_min_probability > low:
        problems.append(
            f"{key}.pairs_min_probability: {matching.pairs_min_probability} would drop pairs "
            f"of the review band, which starts at {low}"
        )
    if matching.cannot_link_below is not None and matching.cannot_link_below >= low:
        problems.append(
            f"{key}.cannot_link_below: {matching.cannot_link_below} must stay below the review "
            f"band ({low}): only clear non-matches may keep records apart"
        )
    return problems


def _check_location(key: str, source: SourceConfig, config: E360Config) -> list[str]:
    """Where a source is read from: files (landing folder or S3) or a Kafka stream."""
    problems = []
    if source.format != "csv" and "csv" in source.model_fields_set:
        problems.append(f"{key}.csv: only csv sources take csv read options")
    if source.format == "kafka":
        if source.stream is None:
            problems.append(f"{key}.stream: kafka sources need a stream section (topics, ...)")
        if source.path is not None or source.s3 is not None:
            problems.append(f"{key}: kafka sources take no path or s3 section")
        avro = source.stream is not None and source.stream.value_format == "avro"
        if avro and (source.contract is None or source.contract.suffix != ".avsc"):
            problems.append(f"{key}.contract: avro values need an Avro schema (.avsc)")
    else:
        if source.path is None:
            problems.append(f"{key}.path: Field required for {source.format} sources")
        if source.stream is not None:
            problems.append(f"{key}.stream: only kafka sources take a stream section")
    if source.contract is not None:
        contract = config.contract_file(source)
        if contract is None or not contract.is_file():
            problems.append(f"{key}.contract: file not found: {contract}")
        elif contract.suffix not in (".json", ".avsc"):
            problems.append(f"{key}.contract: use a JSON Schema (.json) or Avro schema (.avsc)")
    return problems


def _check_event_source(
    key: str, source: SourceConfig, config: E360Config, is_broken: Callable[[str], bool]
) -> list[str]:
    event = source.event
    if event is None:
        return [f"{key}.event: event sources need an event section (channel, type or type_map)"]
    problems = []
    if (event.type is None) == (event.type_column is None):
        problems.append(f"{key}.event: give exactly one of `type` or `type_column`")
    if event.type is not None and event.type not in CONFORMED_EVENT_TYPES:
        problems.append(f"{key}.event.type: '{event.type}' is not one of {CONFORMED_EVENT_TYPES}")
    for entity in ("customer", "product"):
        problems.extend(_check_event_reference(key, source, config, entity, is_broken))
    return problems


def _check_event_reference(
    key: str,
    source: SourceConfig,
    config: E360Config,
    entity: Literal["customer", "product"],
    is_broken: Callable[[str], bool],
) -> list[str]:
    """The sources an event's `<entity>_ref` may point into exist, and each row can tell which."""
    assert source.event is not None
    event, where = source.event, f"{key}.event.{entity}"
    ref = event.reference(entity)
    problems = []
    if getattr(event, f"{entity}_source") is not None and getattr(event, f"{entity}_sources"):
        problems.append(f"{where}_sources: give `{entity}_source` (one) or this list, not both")
    listed = f"{where}_sources" if getattr(event, f"{entity}_sources") else f"{where}_source"
    for name in ref.sources:
        referenced = config.sources.get(name)
        if referenced is None and is_broken(f"sources.{name}"):
            continue  # its own errors say what is wrong with it
        if referenced is None or referenced.entity != entity:
            problems.append(f"{listed}: '{name}' is not a {entity} source")
    if len(set(ref.sources)) < len(ref.sources):
        problems.append(f"{where}_sources: {list(ref.sources)} names a source twice")
    if f"{entity}_ref" in source.mapping and not ref.sources:
        problems.append(
            f"{key}.mapping.{entity}_ref: name the {entity} source(s) it points into "
            f"(event.{entity}_source or event.{entity}_sources)"
        )
    if ref.source_column is not None and ref.key_prefixes:
        problems.append(
            f"{where}_source_column: give a source column or key prefixes "
            f"({entity}_key_prefixes), not both"
        )
    elif len(ref.sources) > 1 and ref.source_column is None and not ref.key_prefixes:
        problems.append(
            f"{where}_sources: several sources need `{entity}_source_column` or "
            f"`{entity}_key_prefixes` to tell which one a row means"
        )
    if ref.source_map and ref.source_column is None:
        problems.append(f"{where}_source_map: only with `{entity}_source_column`")
    if ref.strip_prefix and not ref.key_prefixes:
        problems.append(f"{where}_strip_prefix: only with `{entity}_key_prefixes`")
    for setting, targets in (("source_map", ref.source_map), ("key_prefixes", ref.key_prefixes)):
        unlisted = sorted(set(targets.values()) - set(ref.sources))
        if unlisted and ref.sources:
            problems.append(
                f"{where}_{setting}: {unlisted} are not among the {entity} sources "
                f"{list(ref.sources)}"
            )
    problems.extend(f"{where}_key_prefixes: {p}" for p in _prefix_overlaps(ref.key_prefixes))
    return problems


def _prefix_overlaps(prefixes: dict[str, str]) -> list[str]:
    """Prefixes must tell keys apart: none empty, none the start of another."""
    if "" in prefixes:
        return ["an empty prefix matches every key"]
    return [
        f"'{short}' starts '{long}': a key starting '{long}' would match both"
        for short in sorted(prefixes)
        for long in sorted(prefixes)
        if short != long and long.startswith(short)
    ]
