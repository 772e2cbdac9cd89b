"""Publishing through the real Dagster definition onto DuckDB and a real PostgreSQL server:
history (SCD2) across runs, the README's as-of queries, the incremental event fact, and
write-audit-publish keeping the published layer when the audit fails.

The master zone is written by hand into a real Iceberg lake, so every expectation below is
known exactly: run 1 has customers A, B and C; in run 2 Alice (A) moves, C is merged into B
and a late event arrives; run 3 on the PostgreSQL side injects a duplicate master id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from e360.config import E360Config, load_config
from e360.lake import Lake
from e360.warehouse import staging
from e360.warehouse.targets import connect
from orchestration.runner import RunFailed, run_pipeline

README = Path(__file__).resolve().parents[2] / "README.md"
T1 = "2024-03-01 09:00:00"  # the instant run 1 publishes at (E360_VALID_AT)
T2 = "2024-06-01 09:00:00"
S, TS, F, INT = pa.string(), pa.timestamp("us"), pa.float64(), pa.int64()

SCHEMAS: dict[str, list[tuple[str, pa.DataType]]] = {
    "customer_golden": [
        ("master_id", S), ("first_name", S), ("middle_name", S), ("last_name", S),
        ("full_name", S), ("date_of_birth", pa.date32()), ("gender", S), ("email", S),
        ("phone", S), ("address_line1", S), ("address_line2", S), ("city", S),
        ("postcode", S), ("region", S), ("country", S), ("national_id", S),
        ("company_name", S), ("member_count", INT), ("sources", S), ("provenance", S), ("first_seen_at", TS),
        ("updated_at", TS), ("run_id", S),
    ],
    "product_golden": [
        ("master_id", S), ("title", S), ("brand", S), ("manufacturer", S),
        ("model_number", S), ("gtin", S), ("sku", S), ("category", S), ("description", S),
        ("price", F), ("currency", S), ("member_count", INT), ("sources", S),
        ("provenance", S), ("first_seen_at", TS), ("updated_at", TS), ("run_id", S),
    ],
    "xref": [
        ("record_id", S), ("source", S), ("source_key", S), ("master_id", S),
        ("match_probability", F), ("run_id", S), ("assigned_at", TS),
    ],
    "id_history": [
        ("master_id", S), ("event", S), ("related_master_id", S), ("run_id", S),
        ("occurred_at", TS),
    ],
    "review_queue": [
        ("record_id_l", S), ("record_id_r", S), ("match_probability", F),
        ("match_weight", F), ("master_id_l", S), ("master_id_r", S), ("run_id", S),
        ("queued_at", TS),
    ],
    "events": [
        ("event_id", S), ("event_type", S), ("occurred_at", TS), ("source", S),
        ("channel", S), ("customer_ref", S), ("product_ref", S), ("customer_master_id", S),
        ("product_master_id", S), ("quantity", INT), ("amount", F), ("currency", S),
        ("run_id", S),
    ],
}  # fmt: skip

AT1, AT2 = dt.datetime(2024, 3, 1, 8), dt.datetime(2024, 6, 1, 8)


def _customer(master_id: str, first: str, address: str, city: str, members: int, sources: str,
              run: str, at: dt.datetime) -> tuple:  # fmt: skip
    return (master_id, first, None, "Smith", f"{first} Smith", dt.date(1980, 1, 2), "F",
            f"{first.lower()}@example.com", "+447700900001", address, None, city, "N1 1AA",
            None, "GB", None, None, members, sources, "{}", AT1, at, run)  # fmt: skip


def _product(master_id: str, title: str, price: float, run: str, at: dt.datetime) -> tuple:
    return (master_id, title, "Acme", "Acme Ltd", "W-1", "00012345678905", "SKU", "tools",
            None, price, "GBP", 1, "erp", "{}", AT1, at, run)  # fmt: skip


def _event(event_id: str, kind: str, when: dt.datetime, customer: str | None,
           customer_master: str | None, product: str, product_master: str, amount: float | None,
           run: str) -> tuple:  # fmt: skip
    return (
        event_id,
        kind,
        when,
        "web",
        "web",
        customer,
        product,
        customer_master,
        product_master,
        1 if amount else None,
        amount,
        "GBP" if amount else None,
        run,
    )


def master_zone(version: int) -> dict[str, list[tuple]]:
    """Run 1, run 2 (A moves, C merged into B, a late event) or run 3 (2 + a duplicate id)."""
    run = f"run-{min(version, 2)}"
    at = AT1 if version == 1 else AT2
    customers = [
        _customer("CUS-A", "Alice", "1 High St", "London", 2, "crm,web", run, at),
        _customer("CUS-B", "Bob", "2 Low Rd", "York", 1, "crm", run, at),
        _customer("CUS-C", "Bobby", "2 Low Rd", "York", 1, "pos", run, at),
    ]
    xref = [
        ("crm:1", "crm", "1", "CUS-A", 0.99, run, at),
        ("web:a1", "web", "a1", "CUS-A", 0.99, run, at),
        ("crm:2", "crm", "2", "CUS-B", None, run, at),
        ("pos:9", "pos", "9", "CUS-C", None, run, at),
    ]
    history = [(m, "created", None, "run-1", AT1) for m in ("CUS-A", "CUS-B", "CUS-C")]
    day = dt.datetime
    events = [
        _event("web:e1", "purchase", day(2024, 2, 1), "web:a1", "CUS-A", "erp:W1", "PRD-1",
               100.0, run),
        _event("pos:e2", "purchase", day(2024, 2, 10), "pos:9", "CUS-C", "erp:G2", "PRD-2",
               25.5, run),
        _event("web:e3", "product_view", day(2024, 2, 11), None, None, "erp:W1", "PRD-1",
               None, run),
    ]  # fmt: skip
    if version >= 2:
        customers = [
            _customer("CUS-A", "Alice", "9 New Rd", "Leeds", 2, "crm,web", run, at),
            _customer("CUS-B", "Bob", "2 Low Rd", "York", 2, "crm,pos", run, at),
        ]
        xref[3] = ("pos:9", "pos", "9", "CUS-B", 0.97, run, at)
        history.append(("CUS-C", "merged_into", "CUS-B", run, at))
        events[1] = _event("pos:e2", "purchase", day(2024, 2, 10), "pos:9", "CUS-B", "erp:G2",
                           "PRD-2", 25.5, run)  # fmt: skip
        # late-arriving: older than every event already published
        events.append(_event("web:e4", "purchase", day(2024, 1, 15), "crm:2", "CUS-B",
                             "erp:W1", "PRD-1", 300.0, run))  # fmt: skip
    if version == 3:
        customers.append(customers[1])  # the same master id twice
    return {
        "customer_golden": customers,
        "customer_xref": xref,
        "customer_id_history": history,
        "customer_review_queue": [],
        "product_golden": [
            _product("PRD-1", "Widget", 10.0, run, at),
            _product("PRD-2", "Gadget", 25.5 if version == 1 else 27.0, run, at),
        ],
        "product_xref": [
            ("erp:W1", "erp", "W1", "PRD-1", None, run, at),
            ("erp:G2", "erp", "G2", "PRD-2", None, run, at),
        ],
        "product_id_history": [(m, "created", None, "run-1", AT1) for m in ("PRD-1", "PRD-2")],
        "product_review_queue": [],
        "events": events,
    }


def write_master_zone(lake: Lake, version: int) -> None:
    for table, rows in master_zone(version).items():
        kind = table if table in SCHEMAS else table.split("_", 1)[1]
        schema = pa.schema(SCHEMAS[kind])
        data = pa.Table.from_pylist([dict(zip(schema.names, r, strict=True)) for r in rows], schema)
        zone = "conformed" if table == "events" else "master"
        # (the pipeline appends id history; here each version holds the whole of it)
        lake.replace(zone, table, data)


# --------------------------------------------------------------------------------------------
# warehouse access
# --------------------------------------------------------------------------------------------

PUBLISHED = ("enterprise", "history", "marketing", "supply_chain")


def query(config: E360Config, sql: str) -> list[tuple]:
    con = connect(config)
    try:
        return con.query(sql)
    finally:
        con.close()


def digest(config: E360Config) -> dict[str, tuple[int, str]]:
    """Rows and a checksum of every published table."""
    out = {}
    tables = query(
        config,
        "select table_schema, table_name from information_schema.tables where table_schema in "
        f"({', '.join(repr(s) for s in PUBLISHED)}) order by 1, 2",
    )
    for schema, table in tables:
        rows = query(config, f'select * from "{schema}"."{table}"')
        canonical = sorted(repr(row) for row in rows)
        out[f"{schema}.{table}"] = (
            len(rows),
            hashlib.sha256("\n".join(canonical).encode()).hexdigest(),
        )
    return out


def readme_query(name: str, **params: str) -> str:
    """The README's as-of query `name`, with its :placeholders bound to literals."""
    blocks = re.findall(r"```sql\n(.*?)```", README.read_text(), flags=re.S)
    sql = next((b for b in blocks if b.startswith(f"-- as-of: {name}\n")), None)
    assert sql is not None, f"README has no ```sql block starting '-- as-of: {name}'"
    for key, value in params.items():
        sql = sql.replace(f":{key}", "'" + value.replace("'", "''") + "'")
    assert not re.search(r"(?<!:):[a-z_]+\b", sql), f"unbound placeholder in {name}: {sql}"
    return sql


# --------------------------------------------------------------------------------------------
# one scenario per target, shared by the tests of that target
# --------------------------------------------------------------------------------------------


@dataclass
class Scenario:
    config: E360Config
    after_run2: dict[str, tuple[int, str]]
    extra: dict[str, Any]


def _publish(config: E360Config, valid_at: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("E360_VALID_AT", valid_at)
    run_pipeline(config, ["publish"])


def _scenario(
    tmp: Path,
    demo_config_path: Path,
    overrides: dict[str, Any],
    after: Callable[[E360Config, Lake, pytest.MonkeyPatch, dict[str, Any]], None],
) -> Scenario:
    config = load_config(
        demo_config_path, overrides={"project.root": str(tmp), **overrides}, environ={}
    )
    lake = Lake.from_config(config)
    extra: dict[str, Any] = {}
    with pytest.MonkeyPatch.context() as mp:
        write_master_zone(lake, 1)
        _publish(config, T1, mp)
        extra["after_run1"] = digest(config)
        _retire_a_model(config)
        write_master_zone(lake, 2)
        _publish(config, T2, mp)
        snapshot = digest(config)
        extra["schemas_after_run2"] = {
            s for (s,) in query(config, "select schema_name from information_schema.schemata")
        }
        after(config, lake, mp, extra)
    return Scenario(config, snapshot, extra)


def _retire_a_model(config: E360Config) -> None:
    """A published table no model builds any more (a model the project dropped)."""
    con = connect(config)
    try:
        con.execute("create table enterprise.dim_retired as select 1 as id")
        con.commit()
    finally:
        con.close()


def _rerun_same_data(config: E360Config, lake: Lake, mp: pytest.MonkeyPatch, extra: dict) -> None:
    _publish(config, "2024-06-02 09:00:00", mp)
    extra["after_rerun"] = digest(config)
    _broken_run(config, lake, mp, extra)


def _broken_run(config: E360Config, lake: Lake, mp: pytest.MonkeyPatch, extra: dict) -> None:
    extra["before_failure"] = digest(config)
    write_master_zone(lake, 3)
    mp.setenv("E360_VALID_AT", "2024-07-01 09:00:00")
    with pytest.raises(RunFailed) as failure:
        run_pipeline(config, ["publish"])
    extra["failure"] = str(failure.value)
    extra["after_failure"] = digest(config)


@pytest.fixture(scope="module")
def duckdb_scenario(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path) -> Scenario:
    tmp = tmp_path_factory.mktemp("publish_duckdb")
    return _scenario(tmp, demo_config_path, {}, _rerun_same_data)


@pytest.fixture(scope="module")
def postgres_scenario(
    tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path, postgres_server: Any
) -> Scenario:
    tmp = tmp_path_factory.mktemp("publish_postgres")
    overrides = {
        "deployment.warehouse.target": "postgres",
        "deployment.warehouse.postgres.host": postgres_server.host,
        "deployment.warehouse.postgres.port": postgres_server.port,
        "deployment.warehouse.postgres.user": postgres_server.user,
        "deployment.warehouse.postgres.dbname": postgres_server.create_database(),
    }
    return _scenario(tmp, demo_config_path, overrides, _broken_run)


@pytest.fixture(params=["duckdb", "postgres"])
def scenario(request: pytest.FixtureRequest) -> Scenario:
    return request.getfixturevalue(f"{request.param}_scenario")


# --------------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------------


def test_publish_builds_every_published_layer(scenario: Scenario) -> None:
    tables = scenario.after_run2
    assert tables["enterprise.dim_customer"][0] == 2  # C was merged into B
    assert tables["enterprise.fct_events"][0] == 4
    assert tables["enterprise.dim_customer_history"][0] == 5  # A and B twice, C once
    assert {"marketing.mart_marketing__customer_value",
            "supply_chain.mart_supply_chain__product_sales"} <= set(tables)  # fmt: skip
    assert "enterprise.dim_retired" not in tables
    # nothing of the build is left behind after a successful publish
    schemas = scenario.extra["schemas_after_run2"]
    assert set(PUBLISHED) <= schemas
    assert not {s for s in schemas if s.endswith("__wap") or s.endswith("__previous")}


def test_builds_after_a_projects_first_reuse_dbts_parse(scenario: Scenario) -> None:
    # dbt logs "UnableToPartialParse" (I024) when it parses the whole project: only the
    # project's first build may, although every run publishes at a new instant.
    logs = sorted(scenario.config.runs_dir.glob("*/dbt/dbt.log"))
    assert len(logs) >= 2
    full = [
        any(json.loads(line)["info"]["code"] == "I024" for line in log.open() if line[0] == "{")
        for log in logs
    ]
    assert full == [True] + [False] * (len(logs) - 1)


def test_customer_history_is_scd2(scenario: Scenario) -> None:
    rows = query(
        scenario.config,
        "select customer_master_id, address_line1, city, member_count, valid_from, valid_to, "
        "is_current, current_customer_master_id from enterprise.dim_customer_history "
        "order by customer_master_id, valid_from",
    )
    t1, t2 = dt.datetime.fromisoformat(T1), dt.datetime.fromisoformat(T2)
    assert rows == [
        ("CUS-A", "1 High St", "London", 2, t1, t2, False, "CUS-A"),  # moved in run 2
        ("CUS-A", "9 New Rd", "Leeds", 2, t2, None, True, "CUS-A"),
        ("CUS-B", "2 Low Rd", "York", 1, t1, t2, False, "CUS-B"),  # gained C's record
        ("CUS-B", "2 Low Rd", "York", 2, t2, None, True, "CUS-B"),
        ("CUS-C", "2 Low Rd", "York", 1, t1, t2, False, "CUS-B"),  # merged away: closed
    ]


def test_readme_as_of_address(scenario: Scenario) -> None:
    before = query(scenario.config, readme_query(
        "address", customer_master_id="CUS-A", as_of="2024-05-31 23:59:59"))  # fmt: skip
    after = query(scenario.config, readme_query(
        "address", customer_master_id="CUS-A", as_of=T2))  # fmt: skip
    assert [r[:2] for r in before] == [("1 High St", "London")]
    assert [r[:2] for r in after] == [("9 New Rd", "Leeds")]
    assert query(scenario.config, readme_query(
        "address", customer_master_id="CUS-A", as_of="2024-01-01 00:00:00")) == []  # fmt: skip


def test_readme_as_of_membership_of_an_orders_customer(scenario: Scenario) -> None:
    # pos:e2 was bought by record pos:9: master C until run 2 merged C into B
    then = query(scenario.config, readme_query(
        "membership", event_id="pos:e2", as_of="2024-04-01 00:00:00"))  # fmt: skip
    now = query(scenario.config, readme_query(
        "membership", event_id="pos:e2", as_of="2024-06-15 00:00:00"))  # fmt: skip
    assert then == [("pos:e2", "pos:9", "CUS-C", "CUS-B")]
    assert now == [("pos:e2", "pos:9", "CUS-B", "CUS-B")]


def test_readme_retired_ids_map_to_survivors(scenario: Scenario) -> None:
    rows = query(scenario.config, readme_query("survivor", master_id="CUS-C"))
    assert rows == [("CUS-C", "merged", "CUS-B")]
    assert query(scenario.config, readme_query("survivor", master_id="CUS-A")) == [
        ("CUS-A", "current", "CUS-A")
    ]


def test_fct_events_is_incremental_with_late_and_reattributed_events(scenario: Scenario) -> None:
    rows = dict(
        (r[0], r[1:])
        for r in query(
            scenario.config,
            "select event_id, customer_master_id, customer_attribution, run_id "
            "from enterprise.fct_events",
        )
    )
    assert set(rows) == {"web:e1", "pos:e2", "web:e3", "web:e4"}
    assert rows["web:e4"] == ("CUS-B", "xref", "run-2")  # late-arriving, picked up
    assert rows["pos:e2"] == ("CUS-B", "xref", "run-2")  # re-attributed after the merge
    # web:e1 did not change: run 2 left run 1's row in place
    assert rows["web:e1"] == ("CUS-A", "xref", "run-1")


def test_product_history_records_a_price_change(scenario: Scenario) -> None:
    rows = query(
        scenario.config,
        "select price, is_current from enterprise.dim_product_history "
        "where product_master_id = 'PRD-2' order by valid_from",
    )
    assert rows == [(25.5, False), (27.0, True)]


def test_a_rerun_on_the_same_data_changes_nothing(duckdb_scenario: Scenario) -> None:
    scenario = duckdb_scenario
    rerun = scenario.extra["after_rerun"]
    for table in (
        "enterprise.fct_events",
        "enterprise.dim_customer_history",
        "enterprise.bridge_master_xref_history",
        "history.snapshot_dim_customer",
    ):
        assert rerun[table] == scenario.after_run2[table], table  # fmt: skip


def test_a_failed_audit_keeps_the_published_layer(scenario: Scenario) -> None:
    assert "unique_stg_e360_lake__customers_customer_master_id" in scenario.extra["failure"]
    assert scenario.extra["after_failure"] == scenario.extra["before_failure"]
    # the rejected build is kept for inspection: on PostgreSQL beside the published schemas,
    # on DuckDB in the staging copy of the file (built there under the published names)
    config = scenario.config
    if config.deployment.warehouse.target == "duckdb":
        assert str(staging.staging_path(config)) in scenario.extra["failure"]
        loads = "select count(distinct run_id) from e360_lake.loads"
        # the copy holds the rejected run's load, which the published file never saw
        assert query(staging.resume(config), loads)[0][0] == query(config, loads)[0][0] + 1
    else:
        schemas = {
            s for (s,) in query(config, "select schema_name from information_schema.schemata")
        }
        assert "enterprise__wap" in schemas
    # the published history has no third version
    valid_froms = query(
        scenario.config, "select distinct valid_from from enterprise.dim_customer_history"
    )
    assert len(valid_froms) == 2
