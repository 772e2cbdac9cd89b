"""The columnar standardized zone (SQL over the newest raw rows, standardisers once per
distinct value) gives, row for row, what the per-record path gave: on the demo sources and on
edge cases (nulls, blanks, unicode, templates, typed stream payloads, full names split,
batch-wide product brands, a source that landed nothing); and Spark local gives DuckDB's rows."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
import pytest
from services.raw_reference import per_row_latest

from demo import generate_demo_data
from e360.config import EngineSettings, SourceConfig, load_config
from e360.dataflow import DuckDBDataflow
from e360.lake import Lake
from e360.udf_workers import UdfWorkers
from e360.zones import standardized_schema
from matching.resolution.engine import dataflow_for
from matching.standardize.records import complete_products
from matching.standardize.zone import (
    build_standardized,
    standardize_records,
    standardized_table,
)
from orchestration.runner import run_pipeline


def per_record_standardized(lake: Lake, entity: str, sources: dict[str, SourceConfig]) -> pa.Table:
    """The path the columnar zone replaced, kept as the reference: Python dicts per record."""
    records = []
    for name, source in sources.items():
        records.extend(standardize_records(name, source, per_row_latest(lake, name, source)))
    if entity == "product":
        complete_products(records)
    return pa.Table.from_pylist(records, schema=standardized_schema(entity))


def columnar(lake: Lake, entity: str, sources: dict[str, SourceConfig]) -> pa.Table:
    flow = DuckDBDataflow()
    try:
        return standardized_table(flow, lake, entity, sources)
    finally:
        flow.close()


def assert_same_rows(actual: pa.Table, expected: pa.Table) -> None:
    assert actual.schema == expected.schema
    assert actual.num_rows == expected.num_rows
    for name in expected.column_names:  # column by column, so a failure names the column
        assert actual.column(name).to_pylist() == expected.column(name).to_pylist(), name


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path):
    root = tmp_path_factory.mktemp("standardize")
    config = load_config(demo_config_path, overrides={"project.root": str(root)}, environ={})
    generate_demo_data(root, customers=2000, seed=9)
    run_pipeline(config, ["ingest"])
    return config, Lake.from_config(config)


@pytest.mark.parametrize("entity", ["customer", "product"])
def test_demo_sources_standardise_as_record_by_record(demo_lake, entity: str) -> None:
    config, lake = demo_lake
    expected = per_record_standardized(lake, entity, config.sources_of(entity))
    assert expected.num_rows > 100
    built = build_standardized(config, lake, entity)  # the configured engine: DuckDB
    assert_same_rows(built, expected)
    stored = lake.read("standardized", entity)
    assert stored is not None
    assert_same_rows(stored.select(expected.column_names), expected)


@pytest.mark.parametrize("entity", ["customer", "product"])
def test_standardisers_in_worker_processes_give_the_same_rows(demo_lake, entity: str) -> None:
    config, lake = demo_lake
    sources = config.sources_of(entity)
    workers = UdfWorkers(2, min_rows=8, warm_up_rows=0)  # every lookup goes to the workers
    flow = DuckDBDataflow(workers=workers)
    try:
        offloaded = standardized_table(flow, lake, entity, sources)
        assert workers.started
    finally:
        flow.close()
        workers.close()
    assert_same_rows(offloaded, columnar(lake, entity, sources))


CRM = SourceConfig(
    entity="customer",
    format="csv",
    path="crm/*.csv",
    key="id",
    updated_at="changed",
    default_region="US",
    dayfirst=False,
    mapping={
        "first_name": "first",
        "last_name": "last",
        "full_name": "name",
        "email": "mail",
        "phone": "tel",
        "date_of_birth": "born",
        "gender": "sex",
        "address_line1": "{number} {street}",
        "address_line2": "[{flat}, {block}]",
        "city": "town",
        "postcode": "zip",
        "country": "country",
        "company_name": "employer",
        "national_id": "ssn",
        "region": "state",
    },
)
STREAM = SourceConfig(
    entity="customer",
    format="jsonl",
    path="unused/*.jsonl",
    key="customer_id",
    mapping={"full_name": "name", "date_of_birth": "dob", "phone": "phone", "email": "email"},
)
NOTHING = SourceConfig(
    entity="customer", format="csv", path="none/*.csv", key="k", mapping={"email": "e"}
)
_LANDED = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)


def _file_rows(rows: list[dict[str, str | None]]) -> pa.Table:
    columns = sorted({c for r in rows for c in r})
    table = {c: pa.array([r.get(c) for r in rows], pa.string()) for c in columns}
    n = len(rows)
    table |= {
        "_file": pa.array(["f1.csv"] * n),
        "_row": pa.array(range(1, n + 1), pa.int64()),
        "_batch_id": pa.array(["b1"] * n),
        "_ingested_at": pa.array([_LANDED] * n, pa.timestamp("us")),
    }
    return pa.table(table)


CUSTOMER_ROWS: list[dict[str, str | None]] = [
    {
        "id": "1",
        "first": "Bill",
        "last": "O'Brien",
        "mail": "Bill.O+x@GMail.com",
        "tel": "(415) 555-2671",
        "born": "12/25/1990",
        "sex": "male",
        "number": "10",
        "street": " Downing  Street ",
        "flat": "2",
        "town": "Zürich",
        "zip": "8001",
        "country": "Switzerland",
        "employer": "The Müller & Sons GmbH",
        "changed": "2025-01-02T03:04:05Z",
    },
    {
        "id": "2",
        "name": "GARCÍA, José Luis",
        "tel": "+44 7700 900123",
        "zip": "sw1a1aa",
        "born": "1 March 1980",
        "street": "High St",
        "block": "B",
        "changed": "not a date",
    },
    {
        "id": "3",
        "first": "  ",
        "last": None,
        "name": "Dr. Jane van der Berg Jr.",
        "mail": "bad",
        "tel": "07700 900123",
        "country": "GB",
        "zip": "N/A",
        "sex": "x",
        "ssn": "12-34 5",
    },
    {"id": "4"},  # every attribute missing
    {"id": "  ", "first": "Keyless"},  # no key: not a record
    {
        "id": "5",
        "first": "Smith",
        "last": "Johnny",
        "number": "7",
        "town": "  ",
        "state": "ca",
        "employer": "Co-op",
        "zip": "2138",
        "country": "usa",
        "born": "2999-01-01",
    },
    {"id": "6", "first": "Émile", "name": "Émile Zola", "mail": "mailto:e@x.fr", "tel": "+33 1 23"},
    {"id": "1", "first": "William", "last": "O'Brien", "tel": "4155552671"},  # re-delivered
]


@pytest.fixture
def edge_lake(lake: Lake) -> Lake:
    rows = _file_rows(CUSTOMER_ROWS)
    # the re-delivery lands later, so it is the version kept
    later = pa.array([_LANDED] * (rows.num_rows - 1) + [datetime(2026, 2, 1)], pa.timestamp("us"))
    lake.append(
        "raw",
        "crm__customer",
        rows.set_column(rows.schema.get_field_index("_ingested_at"), "_ingested_at", later),
    )
    stream = pa.table(
        {
            "customer_id": pa.array([7, 7, 8, 9], pa.int64()),
            "name": ["Anne Marie Smith", "Ann Smith", "Søren Kierkegaard", None],
            "dob": pa.array([date(1980, 3, 4), None, date(1813, 5, 5), date(2001, 1, 2)]),
            "phone": pa.array([447700900123, None, 4512345678, None], pa.int64()),
            "email": ["a@b.co", None, "s@k.dk", "x@y.z"],
            "_topic": ["crm.customers"] * 4,
            "_partition": pa.array([0, 0, 1, 0], pa.int32()),
            "_offset": pa.array([5, 2, 3, 9], pa.int64()),
            "_batch_id": ["s1"] * 4,
            "_ingested_at": pa.array([_LANDED] * 4, pa.timestamp("us")),
        }
    )
    lake.append("raw", "stream__customer", stream)
    products = _file_rows(
        [
            {
                "sku": "a",
                "title": "Sony WH-1000XM4 Headphones Black",
                "brand": "Sony",
                "price": "£299.99",
                "gtin": "4548736112469",
                "desc": "Noise cancelling",
            },
            {
                "sku": "b",
                "title": "sony wh1000xm4 wireless",
                "price": "1.299,00 €",
                "colour": "x",
                "desc": "replaces the WH-1000XM3, 30 h battery",  # a code in the description
            },
            {"sku": "c", "title": "Acme X-200 Speaker", "model": "X200-BK", "maker": "ACME Ltd"},
            {
                "sku": "d",
                "title": None,
                "desc": "by Sony, silver",
                "currency": "usd",
                "price": "12",
            },
            {"sku": "e", "title": "Bose QC45", "brand": "  ", "gtin": "not-a-gtin, 00615104099692"},
            {"sku": "f", "title": "Ünïcode Gädget 16 GB", "brand": "Gädget Co", "model": "n/a"},
            {"sku": "g"},
        ]
    )
    lake.append("raw", "shop__product", products)
    lake.append(
        "raw",
        "titles__product",
        _file_rows([{"sku": "1", "title": "Widget Pro 3000"}, {"sku": "2", "title": "42 things"}]),
    )
    return lake


SHOP = SourceConfig(
    entity="product",
    format="csv",
    path="shop/*.csv",
    key="sku",
    mapping={
        "title": "title",
        "brand": "brand",
        "manufacturer": "maker",
        "model_number": "model",
        "gtin": "gtin",
        "sku": "sku",
        "description": "desc",
        "price": "price",
        "currency": "currency",
        "category": "{colour} / {brand}",
    },
)
TITLES = SourceConfig(
    entity="product", format="csv", path="t/*.csv", key="sku", mapping={"title": "title"}
)
CUSTOMER_SOURCES = {"crm": CRM, "stream": STREAM, "nothing": NOTHING}
PRODUCT_SOURCES = {"shop": SHOP, "titles": TITLES}


def test_edge_customers_standardise_as_record_by_record(edge_lake: Lake) -> None:
    expected = per_record_standardized(edge_lake, "customer", CUSTOMER_SOURCES)
    assert expected.column("source_key").to_pylist() == [
        "2",
        "3",
        "4",
        "5",
        "6",
        "1",
        "7",
        "9",
        "8",
    ]
    assert_same_rows(columnar(edge_lake, "customer", CUSTOMER_SOURCES), expected)


def test_edge_products_standardise_as_record_by_record(edge_lake: Lake) -> None:
    expected = per_record_standardized(edge_lake, "product", PRODUCT_SOURCES)
    skus, brands = expected.column("sku").to_pylist(), expected.column("brand").to_pylist()
    assert (
        dict(zip(skus, brands, strict=True))["B"] == "sony"
    )  # from the title, via the brand column
    keys = dict(zip(skus, expected.column("title_lsh").to_pylist(), strict=True))
    assert {"code:wh1000xm4", "code:wh1000xm3"} <= set(keys["B"])  # title's and description's
    assert_same_rows(columnar(edge_lake, "product", PRODUCT_SOURCES), expected)


def test_products_without_any_brand_column_take_the_leading_word(edge_lake: Lake) -> None:
    expected = per_record_standardized(edge_lake, "product", {"titles": TITLES})
    assert expected.column("brand").to_pylist() == ["widget", None]
    assert_same_rows(columnar(edge_lake, "product", {"titles": TITLES}), expected)


def test_an_entity_whose_sources_landed_nothing_has_an_empty_zone(lake: Lake) -> None:
    for entity, sources in (("customer", {"nothing": NOTHING}), ("product", {})):
        table = columnar(lake, entity, sources)
        assert table.num_rows == 0
        assert table.schema == standardized_schema(entity)


@pytest.mark.spark
def test_spark_local_standardises_as_duckdb(edge_lake: Lake, tmp_path: Path) -> None:
    engine = EngineSettings.model_validate(
        {
            "type": "spark",
            "spark_conf": {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "4"},
        }
    )
    flow = dataflow_for(engine, tmp_path)
    for entity, sources in (("customer", CUSTOMER_SOURCES), ("product", PRODUCT_SOURCES)):
        assert_same_rows(
            standardized_table(flow, edge_lake, entity, sources),
            columnar(edge_lake, entity, sources),
        )
