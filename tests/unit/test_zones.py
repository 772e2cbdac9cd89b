"""The zone table registry: the names every layer reads and writes the lake by."""

from __future__ import annotations

import re
from pathlib import Path

from e360.config import SourceConfig, parse_yaml
from e360.entities import CANONICAL_ATTRIBUTES
from e360.warehouse import LAKE_TABLES
from e360.zones import (
    CONFORMED_EVENT_REJECTS,
    CONFORMED_EVENTS,
    DISPLAY_ATTRIBUTES,
    DISPLAY_COLUMNS,
    MASTER_TABLES,
    PUBLISHED_MASTER_TABLES,
    STANDARDIZED_COLUMNS,
    display_column,
    master_table_name,
    quarantine_table_name,
    raw_table_name,
    standardized_schema,
    standardized_table_name,
)

DBT_SOURCES = Path(__file__).parents[2] / "dbt_project/models/staging/e360_lake"


def test_each_zone_names_its_tables_as_the_lake_always_has() -> None:
    # Existing lakes hold these names: a change here strands every table already written.
    crm = SourceConfig(entity="customer", format="csv", path="*.csv", key="id", mapping={})
    assert raw_table_name("crm", crm) == raw_table_name("crm", "customer") == "crm__customer"
    assert quarantine_table_name("crm") == "crm"
    assert standardized_table_name("product") == "product"
    assert [master_table_name("customer", t) for t in MASTER_TABLES] == [
        "customer_id_history",
        "customer_xref",
        "customer_golden",
        "customer_pairs",
        "customer_review_queue",
        "customer_record_hashes",
        "customer_scores",
    ]
    assert (CONFORMED_EVENTS, CONFORMED_EVENT_REJECTS) == ("events", "event_rejects")


def test_the_published_lake_tables_are_the_sources_dbt_reads() -> None:
    sources = parse_yaml((DBT_SOURCES / "_e360_lake__sources.yml").read_text())["sources"]
    (e360_lake,) = [s for s in sources if s["name"] == "e360_lake"]
    dbt_tables = {t["name"] for t in e360_lake["tables"]} - {"loads"}  # the load ledger
    assert dbt_tables == set(LAKE_TABLES)
    assert set(PUBLISHED_MASTER_TABLES) <= set(MASTER_TABLES)
    assert LAKE_TABLES["customer_golden"] == ("master", master_table_name("customer", "golden"))
    assert LAKE_TABLES["events"] == ("conformed", CONFORMED_EVENTS)


def test_every_display_value_is_standardized_documented_and_shown_by_staging() -> None:
    sources = parse_yaml((DBT_SOURCES / "_e360_lake__sources.yml").read_text())["sources"]
    (e360_lake,) = [s for s in sources if s["name"] == "e360_lake"]
    documented = {t["name"]: {c["name"] for c in t["columns"]} for t in e360_lake["tables"]}
    for entity, attributes in DISPLAY_ATTRIBUTES.items():
        assert set(attributes) <= set(CANONICAL_ATTRIBUTES[entity])
        displays = [display_column(a) for a in attributes]
        assert [name for name, _ in DISPLAY_COLUMNS[entity]] == displays
        assert set(displays) <= set(standardized_schema(entity).names)
        # matching (blocking rules, comparisons; the configuration checks) never reads them
        assert not set(displays) & {name for name, _ in STANDARDIZED_COLUMNS[entity]}
        assert set(displays) <= documented[f"{entity}_golden"]
        staging = (DBT_SOURCES / f"stg_e360_lake__{entity}s.sql").read_text()
        assert set(re.findall(r"shown\['(\w+)'\]", staging)) == set(attributes), entity
