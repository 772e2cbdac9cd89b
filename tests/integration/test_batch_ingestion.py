"""Batch ingestion into a real Iceberg lake (SQL catalog on SQLite, local warehouse)."""

from __future__ import annotations

from pathlib import Path

import pytest

from e360.config import SourceConfig
from e360.lake import Lake
from ingestion.batch import FILE_HASH_PROPERTY, ingest_source

CRM = SourceConfig(
    entity="customer", format="csv", path="crm/*.csv", key="id", mapping={"email": "email"}
)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    folder = tmp_path / "landing" / "crm"
    folder.mkdir(parents=True)
    (folder / "day1.csv").write_text("id,email\n1,a@x.com\n2,b@x.com,oops\n3,c@x.com\n")
    return tmp_path / "landing"


def test_rows_land_with_metadata_and_bad_rows_go_to_quarantine(lake, landing) -> None:
    result = ingest_source(lake, "crm", CRM, landing, "batch-1")
    assert (result.rows_in, result.landed, result.quarantined) == (3, 2, 1)
    raw = lake.read("raw", "crm__customer").to_pylist()
    assert [r["id"] for r in raw] == ["1", "3"]
    first = raw[0]
    assert first["_source"] == "crm" and first["_batch_id"] == "batch-1"
    assert first["_file"] == "crm/day1.csv" and first["_row"] == 1
    assert len(first["_payload_hash"]) == 64 and first["_ingested_at"] is not None
    quarantine = lake.read("quarantine", "crm").to_pylist()
    assert quarantine == [
        {
            **{k: quarantine[0][k] for k in ("_ingested_at",)},
            "_source": "crm",
            "_batch_id": "batch-1",
            "_file": "crm/day1.csv",
            "_row": 2,
            "_raw": "2,b@x.com,oops",
            "_reason": "row has 3 fields, the header has 2",
        }
    ]


def test_the_same_file_twice_lands_nothing_twice(lake, landing) -> None:
    ingest_source(lake, "crm", CRM, landing, "batch-1")
    again = ingest_source(lake, "crm", CRM, landing, "batch-2")
    assert (again.files_skipped, again.landed, again.quarantined) == (1, 0, 0)
    # The same bytes under another name are the same delivery.
    (landing / "crm" / "day1-copy.csv").write_bytes((landing / "crm" / "day1.csv").read_bytes())
    copy = ingest_source(lake, "crm", CRM, landing, "batch-3")
    assert (copy.files_skipped, copy.landed) == (2, 0)
    assert lake.read("raw", "crm__customer").num_rows == 2
    assert lake.read("quarantine", "crm").num_rows == 1


def test_a_new_file_lands_and_new_columns_widen_the_raw_table(lake, landing) -> None:
    ingest_source(lake, "crm", CRM, landing, "batch-1")
    (landing / "crm" / "day2.csv").write_text("id,email,phone\n1,a2@x.com,0113 496 0000\n")
    result = ingest_source(lake, "crm", CRM, landing, "batch-2")
    assert (result.files_ingested, result.files_skipped, result.landed) == (1, 1, 1)
    raw = lake.read("raw", "crm__customer").to_pylist()
    assert len(raw) == 3
    assert {r["phone"] for r in raw} == {None, "0113 496 0000"}


def test_a_file_of_only_bad_rows_is_recorded_once(lake, landing) -> None:
    (landing / "crm" / "day1.csv").write_text("id,email\n,a@x.com\n")
    first = ingest_source(lake, "crm", CRM, landing, "batch-1")
    second = ingest_source(lake, "crm", CRM, landing, "batch-2")
    assert (first.landed, first.quarantined) == (0, 1)
    assert (second.files_skipped, second.quarantined) == (1, 0)
    assert lake.read("quarantine", "crm").num_rows == 1
    assert lake.read("raw", "crm__customer") is None


def test_a_crash_between_quarantine_and_raw_commits_recovers_without_duplicates(
    lake, landing, monkeypatch
) -> None:
    real_append = Lake.append

    def crash_on_raw(self, zone, name, data, **kwargs):
        if zone == "raw":
            raise RuntimeError("simulated crash")
        return real_append(self, zone, name, data, **kwargs)

    monkeypatch.setattr(Lake, "append", crash_on_raw)
    with pytest.raises(RuntimeError):
        ingest_source(lake, "crm", CRM, landing, "batch-1")
    monkeypatch.setattr(Lake, "append", real_append)
    result = ingest_source(lake, "crm", CRM, landing, "batch-2")
    assert (result.landed, result.quarantined) == (2, 1)
    assert lake.read("raw", "crm__customer").num_rows == 2
    assert lake.read("quarantine", "crm").num_rows == 1
    ledger = [s.get(FILE_HASH_PROPERTY) for s in lake.snapshot_summaries("raw", "crm__customer")]
    assert len(ledger) == 1 and ledger[0]
