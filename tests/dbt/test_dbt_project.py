"""Tests for the dbt enterprise layer (``dbt_project/``).

A tiny, hand-made ``e360_lake`` schema is written to a DuckDB file, ``dbt build`` runs against it
in-process, and the enterprise tables and the marketing mart are checked. Broken inputs must make
the build fail on the expected data test. Parsing / compiling for PostgreSQL and Redshift must
work offline.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

dbt_main = pytest.importorskip("dbt.cli.main")

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
AS_OF = "2024-07-01 00:00:00"

# --------------------------------------------------------------------------------------------
# fixture lake
# --------------------------------------------------------------------------------------------

DDL = {
    "customer_golden": """
        master_id varchar, first_name varchar, middle_name varchar, last_name varchar,
        full_name varchar, date_of_birth date, gender varchar, email varchar, phone varchar,
        address_line1 varchar, address_line2 varchar, city varchar, postcode varchar,
        region varchar, country varchar, national_id varchar, company_name varchar,
        member_count bigint,
        sources varchar, provenance varchar, first_seen_at timestamp, updated_at timestamp,
        run_id varchar, first_name_display varchar, middle_name_display varchar,
        last_name_display varchar, full_name_display varchar, address_line1_display varchar,
        address_line2_display varchar, city_display varchar, region_display varchar,
        company_name_display varchar""",
    "product_golden": """
        master_id varchar, title varchar, brand varchar, manufacturer varchar,
        model_number varchar, gtin varchar, sku varchar, category varchar, description varchar,
        price double, currency varchar, member_count bigint, sources varchar, provenance varchar,
        first_seen_at timestamp, updated_at timestamp, run_id varchar""",
    "customer_xref": """
        record_id varchar, source varchar, source_key varchar, master_id varchar,
        match_probability double, run_id varchar, assigned_at timestamp""",
    "product_xref": """
        record_id varchar, source varchar, source_key varchar, master_id varchar,
        match_probability double, run_id varchar, assigned_at timestamp""",
    "customer_id_history": """
        master_id varchar, event varchar, related_master_id varchar, run_id varchar,
        occurred_at timestamp""",
    "product_id_history": """
        master_id varchar, event varchar, related_master_id varchar, run_id varchar,
        occurred_at timestamp""",
    "events": """
        event_id varchar, event_type varchar, occurred_at timestamp, source varchar,
        channel varchar, customer_ref varchar, product_ref varchar, customer_master_id varchar,
        product_master_id varchar, quantity bigint, amount double, currency varchar,
        run_id varchar""",
    "customer_review_queue": """
        record_id_l varchar, record_id_r varchar, match_probability double,
        match_weight double, master_id_l varchar, master_id_r varchar, run_id varchar,
        queued_at timestamp""",
    "product_review_queue": """
        record_id_l varchar, record_id_r varchar, match_probability double,
        match_weight double, master_id_l varchar, master_id_r varchar, run_id varchar,
        queued_at timestamp""",
}

T0 = dt.datetime(2024, 5, 1, 8, 0, 0)
RUN = "run-0001"
PROV = '{"email": {"record_id": "crm:1", "source": "crm", "rule": "most_recent"}}'

# one source row per tuple reads better than one value per line
# fmt: off
ROWS: dict[str, list[tuple]] = {
    # Matching forms, then the winners' display values (the lake's current schema); the
    # product table below is one written before display values (it has none).
    "customer_golden": [
        ("CUS-A", "jose", None, "garcia", "jose garcia", dt.date(1985, 3, 2), "M",
         "jose@example.com", "+447700900001", "1 high st", None, "london", "N1 1AA",
         "greater london", "GB", "AB123456C", None, 2, "crm,web", PROV, T0, T0, RUN,
         "José", None, "García", "José García", "1 High St", None, "London",
         "Greater London", None),
        ("CUS-B", "robert", "j", "jones", "robert j jones", dt.date(1979, 11, 30), "M",
         "bob@example.com", "+12025550123", "2 main st", "flat 4", "springfield", "12345",
         "il", "US", None, "jones plumbing", 1, "crm", PROV, T0, T0, RUN,
         "Bob", "J.", "Jones", "Bob J. Jones", "2 Main St", "Apt 4", "Springfield", "IL",
         "Jones Plumbing Ltd"),
        ("CUS-C", "chris", None, "lee", "chris lee", None, "X",
         "chris@example.com", None, None, None, "dublin", None, None, "IE", None, None, 2,
         "pos,web", PROV, T0, T0, RUN, "Chris", None, "Lee", "Chris Lee", None, None,
         None, None, None),
    ],
    "product_golden": [
        ("PRD-1", "Widget Pro", "Acme", "Acme Corp", "W-100", "00012345678905", "SKU-W1",
         "tools", "A very good widget.", 100.0, "GBP", 2, "erp,web", PROV, T0, T0, RUN),
        ("PRD-2", "Gadget", "Globex", "Globex Ltd", "G-2", "00098765432109", "SKU-G2",
         "gadgets", None, 25.5, "GBP", 1, "erp", PROV, T0, T0, RUN),
    ],
    "customer_xref": [
        ("crm:1", "crm", "1", "CUS-A", 0.98, RUN, T0),
        ("web:a1", "web", "a1", "CUS-A", 0.98, RUN, T0),
        ("crm:2", "crm", "2", "CUS-B", None, RUN, T0),
        ("pos:9", "pos", "9", "CUS-C", 0.91, RUN, T0),
        ("web:c3", "web", "c3", "CUS-C", 0.91, RUN, T0),
    ],
    "product_xref": [
        ("erp:W1", "erp", "W1", "PRD-1", 0.99, RUN, T0),
        ("web:w-1", "web", "w-1", "PRD-1", 0.99, RUN, T0),
        ("erp:G2", "erp", "G2", "PRD-2", None, RUN, T0),
    ],
    "customer_id_history": [
        ("CUS-A", "created", None, RUN, T0),
        ("CUS-B", "created", None, RUN, T0),
        ("CUS-C", "created", None, RUN, T0),
        ("CUS-D", "created", None, RUN, T0),
        # CUS-D was later merged into CUS-A: events stamped CUS-D now belong to CUS-A
        ("CUS-D", "merged_into", "CUS-A", "run-0002", T0 + dt.timedelta(days=1)),
    ],
    "product_id_history": [
        ("PRD-1", "created", None, RUN, T0),
        ("PRD-2", "created", None, RUN, T0),
    ],
    "events": [
        # Alice (CUS-A): 2 purchases, 1 cancellation, 1 view (via merged id CUS-D)
        ("web:e1", "purchase", dt.datetime(2024, 6, 1, 10, 0), "web", "web", "web:a1",
         "web:w-1", "CUS-A", "PRD-1", 2, 200.0, "GBP", RUN),
        ("pos:e2", "purchase", dt.datetime(2024, 6, 20, 15, 30), "pos", "store", "crm:1",
         "erp:G2", "CUS-A", "PRD-2", 1, 25.5, "GBP", RUN),
        ("web:e3", "order_cancelled", dt.datetime(2024, 6, 21, 9, 0), "web", "web", "web:a1",
         "web:w-1", "CUS-A", "PRD-1", 1, 100.0, "GBP", RUN),
        ("web:e4", "product_view", dt.datetime(2024, 6, 25, 12, 0), "web", "web", None,
         None, "CUS-D", "PRD-2", None, None, None, RUN),
        # anonymous view: no customer master at all
        ("web:e5", "product_view", dt.datetime(2024, 6, 26, 12, 0), "web", "web", None,
         "web:w-1", None, "PRD-1", None, None, None, RUN),
        # Bob (CUS-B): one big but old purchase -> lapsed
        ("pos:e6", "purchase", dt.datetime(2023, 1, 10, 11, 0), "pos", "store", "crm:2",
         "erp:W1", "CUS-B", "PRD-1", 15, 1500.0, "GBP", RUN),
        # Chris (CUS-C): only an add to cart -> prospect
        ("web:e7", "add_to_cart", dt.datetime(2024, 6, 28, 18, 45), "web", "web", "web:c3",
         "erp:G2", "CUS-C", "PRD-2", 1, None, None, RUN),
    ],
    "customer_review_queue": [
        ("crm:2", "web:b9", 0.72, 1.4, "CUS-B", "CUS-B2", RUN, T0),
    ],
    "product_review_queue": [
        ("erp:G2", "web:g-2", 0.65, 0.9, "PRD-2", "PRD-9", RUN, T0),
    ],
}
# fmt: on


def build_lake(path: Path, extra_sql: tuple[str, ...] = ()) -> Path:
    """Write the fixture ``e360_lake`` schema to a DuckDB file (optionally then break it)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema e360_lake")
        for table, columns in DDL.items():
            con.execute(f"create table e360_lake.{table} ({columns})")
            rows = ROWS[table]
            placeholders = ", ".join("?" * len(rows[0]))
            con.executemany(f"insert into e360_lake.{table} values ({placeholders})", rows)
        for sql in extra_sql:
            con.execute(sql)
    finally:
        con.close()
    return path


# --------------------------------------------------------------------------------------------
# dbt helpers
# --------------------------------------------------------------------------------------------


def run_dbt(args: list[str], work: Path, env: dict[str, str]) -> dbt_main.dbtRunnerResult:
    """Run dbt in-process, keeping target/ and logs/ under ``work`` (the repo stays clean)."""
    full_args = [
        *args,
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        for key, value in env.items():
            mp.setenv(key, value)
        return dbt_main.dbtRunner().invoke(full_args)


def build(db_path: Path, work: Path, *extra: str) -> dbt_main.dbtRunnerResult:
    return run_dbt(
        ["build", "--target", "duckdb", "--vars", f"{{e360_as_of: '{AS_OF}'}}", *extra],
        work,
        {"E360_DUCKDB_PATH": str(db_path)},
    )


def statuses(result: dbt_main.dbtRunnerResult) -> dict[str, str]:
    """node name -> status (success / pass / fail / warn / error / skipped)."""
    assert result.result is not None, result.exception
    return {r.node.name: str(r.status) for r in result.result.results}


def failed(result: dbt_main.dbtRunnerResult) -> set[str]:
    return {name for name, status in statuses(result).items() if status in {"fail", "error"}}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str]]]:
    work = tmp_path_factory.mktemp("dbt_ok")
    db_path = build_lake(work / "e360.duckdb")
    result = build(db_path, work)
    assert result.success, f"dbt build failed: {failed(result)} {result.exception}"
    yield db_path, statuses(result)


def query(db_path: Path, sql: str) -> list[tuple]:
    # not read_only: dbt-duckdb may still hold the file open in this process, and DuckDB
    # refuses a second in-process connection with a different configuration
    con = duckdb.connect(str(db_path))
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# --------------------------------------------------------------------------------------------
# happy path
# --------------------------------------------------------------------------------------------


def test_build_succeeds_and_runs_tests(built: tuple[Path, dict[str, str]]) -> None:
    _, status = built
    assert not {n for n, s in status.items() if s in {"fail", "error", "skipped"}}
    # the key data tests actually ran
    for name in (
        "unique_dim_customer_customer_master_id",
        "relationships_bridge_master_xref_customer_master_id",
        "relationships_bridge_master_xref_product_master_id",
        "assert_xref_record_maps_to_exactly_one_master",
        "assert_every_master_has_xref_member",
    ):
        assert status.get(name) == "pass", (name, status.get(name))
    # the member_count consistency check is a warning-level test and passes on good data
    assert status["assert_member_count_matches_xref"] == "pass"


def test_enterprise_tables_and_row_counts(built: tuple[Path, dict[str, str]]) -> None:
    db_path, _ = built
    tables = {
        (schema, name)
        for schema, name, kind in query(
            db_path,
            "select table_schema, table_name, table_type from information_schema.tables",
        )
        if kind == "BASE TABLE"
    }
    counts = {
        "dim_customer": 3,
        "dim_product": 2,
        "fct_events": 7,
        "bridge_master_xref": 8,
    }
    for table, expected in counts.items():
        assert ("enterprise", table) in tables
        assert query(db_path, f"select count(*) from enterprise.{table}")[0][0] == expected
    assert ("marketing", "mart_marketing__customer_value") in tables
    # custom schema names are used verbatim (no `main_` prefix)
    schemas = {s for s, _ in tables} | {
        s for (s,) in query(db_path, "select schema_name from information_schema.schemata")
    }
    assert {"staging", "intermediate", "enterprise", "marketing"} <= schemas
    assert not any(s.startswith("main_") for s in schemas)


def test_business_accounts_carry_their_company_name(built: tuple[Path, dict[str, str]]) -> None:
    db_path, _ = built
    rows = dict(
        query(db_path, "select customer_master_id, company_name from enterprise.dim_customer")
    )
    assert rows == {"CUS-A": None, "CUS-B": "Jones Plumbing Ltd", "CUS-C": None}
    # A column added to the fingerprint only counts where set: people's hashes (and so their
    # history) are what they were before company names were published.
    people, business = (
        query(
            db_path,
            "select attributes_hash = md5(concat_ws('|', coalesce(full_name, ''), "
            "coalesce(first_name, ''), coalesce(middle_name, ''), coalesce(last_name, ''), "
            "coalesce(gender, ''), coalesce(national_id, ''), coalesce(email, ''), "
            "coalesce(phone, ''), coalesce(address_line1, ''), coalesce(address_line2, ''), "
            "coalesce(city, ''), coalesce(postcode, ''), coalesce(region, ''), "
            "coalesce(country_code, ''), coalesce(cast(date_of_birth as varchar), ''))) "
            f"from enterprise.dim_customer where customer_master_id = '{master}'",
        )[0][0]
        for master in ("CUS-A", "CUS-B")
    )
    assert people and not business


def test_golden_attributes_show_as_their_sources_wrote_them(
    built: tuple[Path, dict[str, str]],
) -> None:
    db_path, _ = built
    customers = {
        r[0]: r[1:]
        for r in query(
            db_path,
            "select customer_master_id, first_name, middle_name, last_name, full_name, "
            "address_line2, city, region, email from enterprise.dim_customer",
        )
    }
    assert customers["CUS-A"] == (
        "José", None, "García", "José García", None, "London", "Greater London",
        "jose@example.com",
    )  # fmt: skip
    assert customers["CUS-B"][:6] == ("Bob", "J.", "Jones", "Bob J. Jones", "Apt 4", "Springfield")
    # a display value missing where the matching form is set: the matching form shows
    assert customers["CUS-C"][5] == "dublin"
    (shown,) = query(
        db_path,
        "select full_name from marketing.mart_marketing__customer_value "
        "where customer_master_id = 'CUS-A'",
    )
    assert shown == ("José García",)
    (history,) = query(
        db_path,
        "select first_name, last_name from enterprise.dim_customer_history "
        "where customer_master_id = 'CUS-A' and is_current",
    )
    assert history == ("José", "García")
    # a master zone from before display values (no *_display columns) still publishes
    products = dict(query(db_path, "select product_master_id, brand from enterprise.dim_product"))
    assert products == {"PRD-1": "Acme", "PRD-2": "Globex"}


def test_event_attribution(built: tuple[Path, dict[str, str]]) -> None:
    db_path, _ = built
    rows = dict(
        (r[0], r[1:])
        for r in query(
            db_path,
            """select event_id, customer_master_id, customer_attribution, product_master_id,
                      event_date, date_key
               from enterprise.fct_events""",
        )
    )
    assert rows["web:e1"] == ("CUS-A", "xref", "PRD-1", dt.date(2024, 6, 1), 20240601)
    # stamped with the merged id CUS-D, resolved through the id history
    assert rows["web:e4"][:3] == ("CUS-A", "merge_history", "PRD-2")
    # anonymous event keeps a null customer master (relationships ignore nulls)
    assert rows["web:e5"][:3] == (None, "unattributed", "PRD-1")


def test_bridge_contents(built: tuple[Path, dict[str, str]]) -> None:
    db_path, _ = built
    rows = query(
        db_path,
        """select xref_id, entity, source, source_key, master_id, match_probability
           from enterprise.bridge_master_xref order by xref_id""",
    )
    assert rows[0] == ("customer:crm:1", "customer", "crm", "1", "CUS-A", 0.98)
    assert ("product:erp:G2", "product", "erp", "G2", "PRD-2", None) in rows


def test_marketing_customer_value(built: tuple[Path, dict[str, str]]) -> None:
    db_path, _ = built
    cols = [
        "orders",
        "cancelled_orders",
        "gross_revenue",
        "cancelled_revenue",
        "net_revenue",
        "revenue_currency_code",
        "first_purchase_at",
        "last_purchase_at",
        "days_since_last_purchase",
        "product_views",
        "add_to_carts",
        "channels_used",
        "channels",
        "value_segment",
    ]
    rows = {
        r[0]: dict(zip(cols, r[1:], strict=True))
        for r in query(
            db_path,
            f"select customer_master_id, {', '.join(cols)} "
            "from marketing.mart_marketing__customer_value",
        )
    }
    assert set(rows) == {"CUS-A", "CUS-B", "CUS-C"}
    # hand-computed for Alice: purchases 200.0 + 25.5, one cancellation of 100.0
    assert rows["CUS-A"] == {
        "orders": 2,
        "cancelled_orders": 1,
        "gross_revenue": pytest.approx(225.5),
        "cancelled_revenue": pytest.approx(100.0),
        "net_revenue": pytest.approx(125.5),
        "revenue_currency_code": "GBP",
        "first_purchase_at": dt.datetime(2024, 6, 1, 10, 0),
        "last_purchase_at": dt.datetime(2024, 6, 20, 15, 30),
        "days_since_last_purchase": 11,  # 2024-06-20 -> 2024-07-01
        "product_views": 1,  # web:e4, stamped with the merged id CUS-D
        "add_to_carts": 0,
        "channels_used": 2,
        "channels": "store,web",
        "value_segment": "low",  # net revenue 125.5 < 200
    }
    assert rows["CUS-B"]["value_segment"] == "lapsed"
    assert rows["CUS-B"]["days_since_last_purchase"] == 538
    assert rows["CUS-C"]["value_segment"] == "prospect"
    assert rows["CUS-C"]["orders"] == 0
    assert rows["CUS-C"]["add_to_carts"] == 1


# --------------------------------------------------------------------------------------------
# broken inputs must fail the build on the expected test
# --------------------------------------------------------------------------------------------


def test_orphan_xref_fails_relationship_test(tmp_path: Path) -> None:
    db_path = build_lake(
        tmp_path / "e360.duckdb",
        (
            "insert into e360_lake.customer_xref values "
            "('crm:99', 'crm', '99', 'CUS-NOPE', 0.9, 'run-0001', timestamp '2024-05-01')",
        ),
    )
    result = build(db_path, tmp_path)
    assert not result.success
    assert failed(result) == {"relationships_bridge_master_xref_customer_master_id"}


def test_duplicate_master_fails_unique_test(tmp_path: Path) -> None:
    db_path = build_lake(
        tmp_path / "e360.duckdb",
        (
            "insert into e360_lake.customer_golden "
            "select * from e360_lake.customer_golden where master_id = 'CUS-B'",
        ),
    )
    result = build(db_path, tmp_path)
    assert not result.success
    status = statuses(result)
    assert failed(result) == {"unique_stg_e360_lake__customers_customer_master_id"}
    # nothing downstream of the broken staging model is built
    assert status["dim_customer"] == "skipped"
    assert status["mart_marketing__customer_value"] == "skipped"


# --------------------------------------------------------------------------------------------
# other warehouses: offline compilation
# --------------------------------------------------------------------------------------------

OFFLINE_ENV = {
    "postgres": {
        "E360_PG_HOST": "127.0.0.1",
        "E360_PG_PORT": "1",  # nothing listens there: any connection attempt would fail
        "E360_PG_USER": "e360",
        "E360_PG_DBNAME": "e360",
    },
    "redshift": {
        "E360_REDSHIFT_HOST": "127.0.0.1",
        "E360_REDSHIFT_PORT": "1",
        "E360_REDSHIFT_USER": "e360",
        "E360_REDSHIFT_DBNAME": "e360",
    },
}


@pytest.mark.parametrize("target", ["postgres", "redshift"])
def test_compiles_offline_for_other_warehouses(target: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith("E360_")}  # keep caller's
    env.update(OFFLINE_ENV[target])
    result = run_dbt(
        ["compile", "--target", target, "--no-populate-cache", "--no-introspect"],
        tmp_path,
        env,
    )
    assert result.success, result.exception
    compiled = tmp_path / "target" / "compiled" / "e360" / "models"
    mart = (compiled / "marts" / "marketing" / "mart_marketing__customer_value.sql").read_text()
    if target == "redshift":
        assert "listagg(distinct channel" in mart
        assert "datediff(" in mart
    else:
        assert "string_agg(distinct channel" in mart
    # refs resolve to the custom schemas, sources to the lake schema
    fct = (compiled / "marts" / "enterprise" / "fct_events.sql").read_text()
    assert '"intermediate"."int_events__attributed"' in fct
    stg = (compiled / "staging" / "e360_lake" / "stg_e360_lake__events.sql").read_text()
    assert '"e360_lake"."events"' in stg
