"""One demo-like master zone published to DuckDB and, through `e360 publish --target
postgres`, to a real PostgreSQL server: the enterprise layer, its history and the domain marts
must come out identical (row counts and checksums). `e360 docs` documents what was built."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
from pathlib import Path
from typing import Any

import pytest

from demo import generate_demo_data
from e360.cli import main
from e360.config import E360Config, load_config
from e360.warehouse.targets import connect
from orchestration.runner import run_pipeline

pytestmark = pytest.mark.e2e

PUBLISHED = ("enterprise", "history", "marketing", "supply_chain")
VALID_AT = "2026-01-15 06:00:00"


def _canonical(value: Any) -> Any:
    # Sums of doubles may differ in the last bits between engines (aggregation order).
    if isinstance(value, float | decimal.Decimal):
        return round(float(value), 6)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    return value


def digest(config: E360Config) -> dict[str, tuple[int, str]]:
    con = connect(config)
    try:
        tables = con.query(
            "select table_schema, table_name from information_schema.tables where "
            f"table_schema in ({', '.join(repr(s) for s in PUBLISHED)})"
        )
        out = {}
        for schema, table in sorted(tables):
            rows = con.query(f'select * from "{schema}"."{table}"')
            lines = sorted(repr(tuple(_canonical(v) for v in row)) for row in rows)
            out[f"{schema}.{table}"] = (
                len(rows),
                hashlib.sha256("\n".join(lines).encode()).hexdigest(),
            )
        return out
    finally:
        con.close()


@pytest.fixture(scope="module")
def published(
    tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path, postgres_server: Any
) -> tuple[E360Config, E360Config]:
    root = tmp_path_factory.mktemp("publish_targets")
    generate_demo_data(root, customers=300, seed=11)
    dbname = postgres_server.create_database()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("E360_VALID_AT", VALID_AT)
        duck = load_config(demo_config_path, overrides={"project.root": str(root)}, environ={})
        run_pipeline(duck)
        # the same master zone, published by the command line to the PostgreSQL server
        env = {
            "E360__PROJECT__ROOT": str(root),
            "E360__DEPLOYMENT__WAREHOUSE__POSTGRES__HOST": postgres_server.host,
            "E360__DEPLOYMENT__WAREHOUSE__POSTGRES__PORT": str(postgres_server.port),
            "E360__DEPLOYMENT__WAREHOUSE__POSTGRES__USER": postgres_server.user,
            "E360__DEPLOYMENT__WAREHOUSE__POSTGRES__DBNAME": dbname,
        }
        for key, value in env.items():
            mp.setenv(key, value)
        assert main(["publish", "-c", str(demo_config_path), "--target", "postgres"]) == 0
        pg = load_config(
            demo_config_path,
            overrides={"deployment.warehouse.target": "postgres"},
        )
    return duck, pg


def test_duckdb_and_postgres_publish_identical_layers(
    published: tuple[E360Config, E360Config],
) -> None:
    duck, pg = published
    on_duckdb, on_postgres = digest(duck), digest(pg)
    assert on_duckdb["enterprise.dim_customer"][0] > 200
    assert on_duckdb["enterprise.fct_events"][0] > 1000
    assert set(on_duckdb) == set(on_postgres)
    different = {
        t: (on_duckdb[t], on_postgres[t]) for t in on_duckdb if on_duckdb[t] != on_postgres[t]
    }
    assert not different


def test_the_load_ledger_names_the_pinned_snapshots(
    published: tuple[E360Config, E360Config],
) -> None:
    for config in published:
        con = connect(config)
        try:
            rows = con.query("select table_name, snapshot_id, row_count from e360_lake.loads")
        finally:
            con.close()
        assert {r[0] for r in rows} >= {"customer_golden", "events", "product_xref"}
        assert all(r[1] is not None and r[2] >= 0 for r in rows)


def test_docs_generates_the_site(published: tuple[E360Config, E360Config], tmp_path: Path,
                                 demo_config_path: Path) -> None:  # fmt: skip
    duck, _ = published
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("E360__PROJECT__ROOT", str(duck.root))
        assert main(["docs", "-c", str(demo_config_path)]) == 0
    site = duck.root / "docs" / "dbt" / "static_index.html"
    text = site.read_text()
    assert "dim_customer_history" in text and "mart_supply_chain__product_sales" in text
