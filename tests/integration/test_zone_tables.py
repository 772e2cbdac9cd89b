"""The lake holds exactly the tables the zone registry names, after a small pipeline step."""

from __future__ import annotations

from pathlib import Path

from services.configs import crm_only_config

from e360.lake import Lake
from e360.zones import (
    CONFORMED_EVENT_REJECTS,
    CONFORMED_EVENTS,
    quarantine_table_name,
    raw_table_name,
    standardized_table_name,
)
from ingestion.batch import ingest_source
from matching.mastering.events import build_conformed_events, masters_table
from matching.standardize.zone import build_standardized

CONFIG = crm_only_config({"email": "email", "last_name": "surname"})


def _tables(lake: Lake, zone: str) -> set[str]:
    return {name for _, name in lake.catalog.list_tables(zone)}


def test_ingest_standardize_and_conform_write_the_registry_names(
    lake: Lake, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    (landing / "crm").mkdir(parents=True)
    (landing / "crm" / "day1.csv").write_text("id,email,surname\n1,a@x.com,Ng\n2,b@x.com,Li,x\n")
    crm = CONFIG.sources["crm"]
    result = ingest_source(lake, "crm", crm, landing, "batch-1")
    assert (result.landed, result.quarantined) == (1, 1)
    build_standardized(CONFIG, lake, "customer")
    build_conformed_events(CONFIG, lake, masters_table({}), masters_table({}), "run-1")

    assert _tables(lake, "raw") == {raw_table_name("crm", crm)}
    assert _tables(lake, "quarantine") == {quarantine_table_name("crm")}
    assert _tables(lake, "standardized") == {standardized_table_name("customer")}
    assert _tables(lake, "conformed") == {CONFORMED_EVENTS, CONFORMED_EVENT_REJECTS}
    (record,) = lake.read("standardized", standardized_table_name("customer")).to_pylist()
    assert (record["record_id"], record["email"]) == ("crm:1", "a@x.com")
