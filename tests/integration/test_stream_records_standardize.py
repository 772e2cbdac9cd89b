"""Stream-landed raw records (typed payloads, offsets instead of files) standardize like
file-landed ones: the newest offset of a key wins and typed values are read as text."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow as pa
from pyiceberg.catalog.sql import SqlCatalog
from services.raw_reference import per_row_latest

from e360.config import SourceConfig
from e360.lake import Lake
from matching.standardize.zone import standardize_records

SOURCE = SourceConfig(
    entity="customer",
    format="jsonl",
    path="unused/*.jsonl",
    key="customer_id",
    updated_at="changed_at",
    mapping={"first_name": "first_name", "date_of_birth": "dob", "email": "email"},
)


def _lake(tmp_path: Path) -> Lake:
    (tmp_path / "warehouse").mkdir()
    catalog = SqlCatalog(
        "t", uri=f"sqlite:///{tmp_path / 'catalog.db'}", warehouse=(tmp_path / "warehouse").as_uri()
    )
    return Lake(catalog)


def test_the_newest_offset_wins_and_typed_values_standardize(tmp_path: Path) -> None:
    lake = _lake(tmp_path)
    landed = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    rows = [
        # offset order within the partition, not arrival order in the table, decides
        (7, "Anne", date(1980, 3, 4), "ANNE@X.COM", 5, landed),
        (7, "Ann", date(1980, 3, 4), "ann@x.com", 2, landed),
        (8, "Bob", None, None, 3, landed),
    ]
    table = pa.table(
        {
            "customer_id": pa.array([r[0] for r in rows], pa.int64()),
            "first_name": pa.array([r[1] for r in rows], pa.string()),
            "dob": pa.array([r[2] for r in rows], pa.date32()),
            "email": pa.array([r[3] for r in rows], pa.string()),
            "changed_at": pa.array([landed] * 3, pa.timestamp("us")),
            "_topic": pa.array(["crm.customers"] * 3, pa.string()),
            "_partition": pa.array([0, 0, 0], pa.int32()),
            "_offset": pa.array([r[4] for r in rows], pa.int64()),
            "_batch_id": pa.array(["b1"] * 3, pa.string()),
            "_ingested_at": pa.array([r[5] for r in rows], pa.timestamp("us")),
        }
    )
    lake.append("raw", "crm__customer", table)

    latest = per_row_latest(lake, "crm", SOURCE)
    assert [(r["customer_id"], r["first_name"]) for r in latest] == [("8", "Bob"), ("7", "Anne")]
    assert latest[1]["dob"] == "1980-03-04" and latest[1]["_file"] == "crm.customers/0"
    assert latest[1]["_row"] == 5

    records = {r["source_key"]: r for r in standardize_records("crm", SOURCE, latest)}
    assert records["7"]["record_id"] == "crm:7"
    assert str(records["7"]["date_of_birth"]) == "1980-03-04"
    assert records["7"]["email"] == "anne@x.com"
    assert records["7"]["source_updated_at"] is not None
    assert records["8"]["date_of_birth"] is None
