"""Golden records: each rule, its tie-breaks, and provenance naming the winning record."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import pyarrow as pa
import pytest

from e360.config import SurvivorshipConfig
from matching.masters import golden_table

ATTRIBUTES = ("first_name", "email", "address_line1", "gender")


def _members(rows: list[dict]) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("record_id", pa.string()),
                ("source", pa.string()),
                ("master_id", pa.string()),
                ("source_updated_at", pa.timestamp("us")),
                ("_ingested_at", pa.timestamp("us")),
            ]
            + [(a, pa.string()) for a in ATTRIBUTES]
        ),
    )
    con.register("standardized_members", table)
    return con


def _row(record_id: str, day: int, **values: str | None) -> dict:
    return {
        "record_id": record_id,
        "source": record_id.split(":")[0],
        "master_id": "CUS-1",
        "source_updated_at": datetime(2024, 1, day),
        "_ingested_at": datetime(2024, 2, 1),
        **{a: values.get(a) for a in ATTRIBUTES},
    }


ROWS = [
    _row(
        "crm:1", 1, first_name="william", email="old@x.com", address_line1="1 high st", gender="M"
    ),
    _row(
        "web:7", 9, first_name="bill", email="new@x.com", address_line1="1 high street", gender="F"
    ),
    _row("pos:3", 5, first_name=None, email=None, address_line1="flat 2 1 high street", gender="M"),
]


def _golden(config: SurvivorshipConfig, rows: list[dict] = ROWS) -> dict:
    table = golden_table(_members(rows), ATTRIBUTES, config, run_id="r1")
    assert table.num_rows == 1
    return table.to_pylist()[0]


def test_each_attribute_follows_its_rule_and_records_provenance() -> None:
    golden = _golden(
        SurvivorshipConfig(
            default="most_recent",
            source_priority=["crm", "pos", "web"],
            attributes={
                "first_name": "source_priority",
                "address_line1": "most_complete",
                "gender": "most_frequent",
            },
        )
    )
    assert golden["first_name"] == "william"  # crm ranks first
    assert golden["email"] == "new@x.com"  # newest non-null
    assert golden["address_line1"] == "flat 2 1 high street"  # longest
    assert golden["gender"] == "M"  # two of three members say M
    assert golden["member_count"] == 3
    assert golden["sources"] == "crm,pos,web"
    provenance = json.loads(golden["provenance"])
    assert provenance["first_name"] == {
        "record_id": "crm:1",
        "source": "crm",
        "rule": "source_priority",
    }
    assert provenance["email"]["record_id"] == "web:7"
    assert provenance["address_line1"]["record_id"] == "pos:3"
    assert provenance["gender"]["rule"] == "most_frequent"


def test_nulls_never_win_and_a_missing_source_rank_comes_last() -> None:
    golden = _golden(SurvivorshipConfig(default="source_priority", source_priority=["pos"]))
    # pos ranks first but has no first_name: the next source (by recency among unranked) wins.
    assert golden["first_name"] == "bill"
    assert json.loads(golden["provenance"])["first_name"]["record_id"] == "web:7"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("most_recent", "web:7"), ("most_frequent", "web:7"), ("most_complete", "web:7")],
)
def test_ties_break_by_recency_then_source(rule: str, expected: str) -> None:
    rows = [
        _row("crm:1", 1, email="same@x.com"),
        _row("web:7", 9, email="same@x.com"),
    ]
    golden = _golden(SurvivorshipConfig(default=rule, source_priority=["crm"]), rows)
    assert json.loads(golden["provenance"])["email"]["record_id"] == expected


@pytest.mark.parametrize("rule", ["most_recent", "most_frequent", "most_complete"])
def test_equal_recency_breaks_by_source_order_then_record_id(rule: str) -> None:
    rows = [
        _row("web:7", 5, email="same@x.com"),
        _row("crm:9", 5, email="same@x.com"),
        _row("crm:1", 5, email="same@x.com"),
    ]
    golden = _golden(SurvivorshipConfig(default=rule, source_priority=["crm", "web"]), rows)
    assert json.loads(golden["provenance"])["email"]["record_id"] == "crm:1"


def test_all_null_attribute_has_null_value_and_provenance() -> None:
    rows = [_row("crm:1", 1, first_name="ann"), _row("web:2", 2, first_name="ann")]
    golden = _golden(SurvivorshipConfig(), rows)
    assert golden["email"] is None
    assert json.loads(golden["provenance"])["email"] is None
