"""Display values on a lake written before they existed: the standardized and golden tables
widen by name, and the winning record's writing reaches the golden record."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
from services.configs import crm_only_config

from e360.config import SurvivorshipConfig
from e360.dataflow import DuckDBDataflow
from e360.lake import Lake
from e360.zones import (
    DISPLAY_ATTRIBUTES,
    display_column,
    master_table_name,
    standardized_schema,
    standardized_table_name,
)
from ingestion.batch import ingest_source
from matching.mastering.masters import golden_table
from matching.standardize.zone import build_standardized

CONFIG = crm_only_config({"full_name": "name", "email": "email", "city": "town"})
DISPLAYS = {display_column(a) for a in DISPLAY_ATTRIBUTES["customer"]}


def _old_schema() -> pa.Schema:
    schema = standardized_schema("customer")
    return pa.schema([f for f in schema if f.name not in DISPLAYS])


def test_a_lake_from_before_display_values_takes_them_on_the_next_run(
    lake: Lake, tmp_path: Path
) -> None:
    # the previous run's standardized table: no display columns
    lake.replace("standardized", "customer", _old_schema().empty_table())
    landing = tmp_path / "landing"
    (landing / "crm").mkdir(parents=True)
    (landing / "crm" / "day1.csv").write_text(
        'id,name,email,town\n1,  José   García ,jg@x.com,Málaga\n2,"GARCÍA, José",jg@x.com,MALAGA\n',
        encoding="utf-8",
    )
    ingest_source(lake, "crm", CONFIG.sources["crm"], landing, "batch-1")
    built = build_standardized(CONFIG, lake, "customer")

    stored = lake.read("standardized", standardized_table_name("customer"))
    assert set(stored.column_names) >= DISPLAYS
    rows = {r["record_id"]: r for r in stored.to_pylist()}
    assert rows["crm:1"]["first_name"] == rows["crm:2"]["first_name"] == "jose"
    first = rows["crm:1"]
    assert (first["first_name_display"], first["last_name_display"]) == ("José", "García")
    assert (first["full_name_display"], first["city_display"]) == ("José García", "Málaga")
    assert rows["crm:2"]["last_name_display"] == "GARCÍA"

    # the previous run's golden table, likewise without display columns
    golden_name = master_table_name("customer", "golden")
    con = duckdb.connect()
    con.register("records", built)
    con.execute("create table standardized_members as select *, 'CUS-1' as master_id from records")
    attributes = ("first_name", "last_name", "full_name", "email", "city")
    survivorship = SurvivorshipConfig(default="source_priority")
    old = golden_table(DuckDBDataflow(con), attributes, survivorship, run_id="r0")
    lake.replace(
        "master", golden_name, old.drop_columns([c for c in old.column_names if c in DISPLAYS])
    )
    displays = {a: display_column(a) for a in attributes if display_column(a) in DISPLAYS}
    new = golden_table(
        DuckDBDataflow(con), attributes, survivorship, run_id="r1", displays=displays
    )
    lake.replace("master", golden_name, new)
    (golden,) = lake.read("master", golden_name).to_pylist()
    # both records write the same matching forms; the tie goes to crm:1, whose writing shows
    assert (golden["first_name"], golden["first_name_display"]) == ("jose", "José")
    assert (golden["last_name"], golden["last_name_display"]) == ("garcia", "García")
    assert golden["city_display"] == "Málaga"
