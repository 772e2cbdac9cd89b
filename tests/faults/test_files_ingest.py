"""Fault injection for landing files, through real files and a real Iceberg lake (SQL catalog):
poison rows, files in flight or edited in place, encodings, oversized fields, column-name
clashes and configuration mistakes. Every ingest's counts add up and no key lands twice."""

from __future__ import annotations

import codecs
import json
import os
import time
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e360.config import SourceConfig
from e360.errors import IngestError
from e360.lake import Lake
from ingestion import deliveries
from ingestion.batch import SourceIngest, ingest_source


def _source(fmt: str = "csv", path: str = "crm/*", **extra) -> SourceConfig:
    extra.setdefault("mapping", {"email": "email"})
    extra.setdefault("settle_seconds", 0)
    return SourceConfig(entity="customer", format=fmt, path=path, key="id", **extra)


@pytest.fixture
def landing(tmp_path: Path) -> Path:
    (tmp_path / "landing" / "crm").mkdir(parents=True)
    return tmp_path / "landing"


def _ingest(lake: Lake, landing: Path, source: SourceConfig, batch_id: str = "b1") -> SourceIngest:
    result = ingest_source(lake, "crm", source, landing, batch_id)
    assert result.rows_in == result.landed + result.quarantined + result.unchanged
    assert result.landed == result.new + result.changed
    return result


def _raw(lake: Lake) -> list[dict]:
    table = lake.read("raw", "crm__customer")
    return [] if table is None else table.to_pylist()


def _quarantine(lake: Lake) -> list[dict]:
    table = lake.read("quarantine", "crm")
    return [] if table is None else table.to_pylist()


def _assert_each_version_once(lake: Lake) -> None:
    """No (file, key, payload) lands twice: a re-read file adds only what changed."""
    versions = Counter((r["_file"], r["id"], r["_payload_hash"]) for r in _raw(lake))
    assert [v for v, n in versions.items() if n > 1] == []


def _csv_rows(first: int, last: int) -> str:
    return "".join(f"{i},c{i}@x.com\n" for i in range(first, last + 1))


def _age(path: Path, seconds: float = 3600) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


# --- 3. one bad line never blocks a source ---------------------------------------------------


def test_a_jsonl_line_nested_100k_deep_is_one_quarantined_row_and_later_files_land(
    lake, landing
) -> None:
    deep = '{"id": "2", "email": "d@x.com", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    poison = [
        deep,
        '{"id": "3", "email": "n@x.com", "score": NaN}',
        '{"id": "4", "email": "i@x.com", "score": -Infinity}',
        '{"id": "5", "email": "big@x.com", "n": ' + "9" * 5000 + "}",
        '{"id": "6", "email": "\\ud800"}',
        '{"id": "7", "email": "s@x.com", "Email": "S@x.com"}',
    ]
    good = [
        json.dumps({"id": "1", "email": "a@x.com"}),
        json.dumps({"id": "8", "email": "h@x.com"}),
    ]
    (landing / "crm" / "a.jsonl").write_text("\n".join([good[0], *poison, good[1]]) + "\n")
    (landing / "crm" / "b.jsonl").write_text(json.dumps({"id": "9", "email": "b@x.com"}) + "\n")
    result = _ingest(lake, landing, _source("jsonl", path="crm/*.jsonl"))
    assert (result.files_ingested, result.rows_in, result.landed, result.quarantined) == (
        2,
        9,
        3,
        6,
    )
    assert sorted(r["id"] for r in _raw(lake)) == ["1", "8", "9"]
    rejects = {r["_row"]: r for r in _quarantine(lake)}
    assert all(r["_file"] == "crm/a.jsonl" for r in rejects.values())
    assert rejects[2]["_reason"] == "JSON nested deeper than 64 levels"
    assert len(rejects[2]["_raw"]) == len(deep)  # the bytes are kept
    assert "NaN is not a JSON number" in rejects[3]["_reason"]
    assert "-Infinity is not a JSON number" in rejects[4]["_reason"]
    assert "digits" in rejects[5]["_reason"]
    assert rejects[6]["_reason"] == "invalid unicode escape (a lone surrogate)"
    assert rejects[7]["_reason"] == "fields 'email' and 'Email' differ only in case"


# --- 4. files in flight, edited in place, duplicate keys -------------------------------------


def test_a_file_still_being_written_waits_for_the_next_run_then_lands_once(lake, landing) -> None:
    file = landing / "crm" / "day1.csv"
    file.write_text("id,email\n" + _csv_rows(1, 59) + "60,c6")  # 60% written, mid-row
    source = _source(settle_seconds=600)  # a slow upload: no watching, the next run decides
    first = _ingest(lake, landing, source)
    assert (first.files_found, first.files_ingested, first.rows_in) == (1, 0, 0)
    assert first.unsettled == ["crm/day1.csv (not yet settled)"]
    assert "left for the next run" in first.notes[0]
    assert lake.read("raw", "crm__customer") is None
    file.write_text("id,email\n" + _csv_rows(1, 100))
    _age(file)
    second = _ingest(lake, landing, source, "b2")
    assert (second.rows_in, second.landed, second.quarantined, second.unsettled) == (
        100,
        100,
        0,
        [],
    )
    assert sorted(int(r["id"]) for r in _raw(lake)) == list(range(1, 101))


def test_a_file_that_grows_while_watched_is_not_yet_settled(lake, landing, monkeypatch) -> None:
    file = landing / "crm" / "day1.csv"
    file.write_text("id,email\n" + _csv_rows(1, 10))
    real_wait = deliveries._wait

    def writer_appends(seconds: float) -> None:  # the source writes during the observation
        with file.open("a") as f:
            f.write(_csv_rows(11, 12))
        real_wait(seconds)

    monkeypatch.setattr(deliveries, "_wait", writer_appends)
    source = _source(settle_seconds=0.2)
    first = _ingest(lake, landing, source)
    assert first.unsettled == ["crm/day1.csv (not yet settled)"] and first.rows_in == 0
    _age(file)  # the writer is done: the file is older than the settle age, no watching
    second = _ingest(lake, landing, source, "b2")
    assert (second.landed, second.unsettled) == (12, [])


def test_a_file_landed_unfinished_then_completed_lands_only_its_new_rows(lake, landing) -> None:
    file = landing / "crm" / "day1.csv"
    file.write_text("id,email\n" + _csv_rows(1, 59) + "60\n")  # cut mid-row 60
    first = _ingest(lake, landing, _source())
    assert (first.landed, first.quarantined) == (59, 1)
    file.write_text("id,email\n" + _csv_rows(1, 100))
    second = _ingest(lake, landing, _source(), "b2")
    assert (second.rows_in, second.landed, second.unchanged, second.quarantined) == (100, 41, 59, 0)
    assert (second.new, second.changed) == (41, 0)
    ids = [r["id"] for r in _raw(lake)]
    assert len(ids) == len(set(ids)) == 100
    assert len(_quarantine(lake)) == 1  # the cut row, once
    third = _ingest(lake, landing, _source(), "b3")
    assert (third.files_skipped, third.landed) == (1, 0)


def test_a_file_edited_in_place_lands_only_its_changed_and_new_rows(lake, landing) -> None:
    file = landing / "crm" / "day1.csv"
    file.write_text("id,email\n1,a@x.com\n2,b@x.com\n3,c@x.com\n,nokey@x.com\n")
    first = _ingest(lake, landing, _source())
    assert (first.landed, first.quarantined) == (3, 1)
    file.write_text("id,email\n1,a@x.com\n2,b2@x.com\n3,c@x.com\n,nokey@x.com\n4,d@x.com\n")
    edit = _ingest(lake, landing, _source(), "b2")
    assert (edit.rows_in, edit.new, edit.changed, edit.unchanged, edit.quarantined) == (
        5,
        1,
        1,
        3,
        0,
    )
    latest = {r["id"]: r["email"] for r in sorted(_raw(lake), key=lambda r: r["_batch_id"])}
    assert latest == {"1": "a@x.com", "2": "b2@x.com", "3": "c@x.com", "4": "d@x.com"}
    assert len(_raw(lake)) == 5 and len(_quarantine(lake)) == 1
    _assert_each_version_once(lake)
    # Bytes changed, rows did not (a trailing blank line): recorded, nothing lands, once.
    file.write_text(file.read_text() + "\n")
    same = _ingest(lake, landing, _source(), "b3")
    assert (same.files_ingested, same.landed, same.unchanged) == (1, 0, 5)
    assert _ingest(lake, landing, _source(), "b4").files_skipped == 1


def test_duplicate_keys_in_one_file_land_the_first_and_quarantine_the_rest(lake, landing) -> None:
    (landing / "crm" / "day1.csv").write_text(
        "id,email\n1,a@x.com\n2,b@x.com\n1,other@x.com\n1,a@x.com\n3,c@x.com\n"
    )
    result = _ingest(lake, landing, _source())
    assert (result.rows_in, result.landed, result.quarantined, result.duplicate_keys) == (
        5,
        3,
        2,
        1,
    )
    assert "keys '1'" in result.notes[0] and "crm/day1.csv" in result.notes[0]
    assert sorted(r["id"] for r in _raw(lake)) == ["1", "2", "3"]
    reasons = {r["_row"]: r["_reason"] for r in _quarantine(lake)}
    assert reasons == {
        3: "duplicate key '1' in this file (differs from row 1)",
        4: "duplicate key '1' in this file (identical to row 1)",
    }


@pytest.mark.parametrize(
    ("marker", "marker_file"), [("_SUCCESS", "_SUCCESS"), ("{name}.done", "day1.csv.done")]
)
def test_a_ready_marker_holds_a_file_back_until_the_source_writes_it(
    lake, landing, marker, marker_file
) -> None:
    (landing / "crm" / "day1.csv").write_text("id,email\n1,a@x.com\n")
    source = _source(ready_marker=marker)
    first = _ingest(lake, landing, source)
    assert (
        first.unsettled == [f"crm/day1.csv (waiting for its {marker} marker)"] and first.landed == 0
    )
    (landing / "crm" / marker_file).write_text("")
    second = _ingest(lake, landing, source, "b2")
    # The marker itself is no landing file, although the glob matches it.
    assert (second.files_found, second.landed, second.unsettled) == (1, 1, [])
    # Rewritten after its marker: held back until the source marks it again.
    (landing / "crm" / "day1.csv").write_text("id,email\n1,a2@x.com\n")
    _age(landing / "crm" / marker_file)
    third = _ingest(lake, landing, source, "b3")
    assert third.unsettled == [f"crm/day1.csv (waiting for its {marker} marker)"]
    (landing / "crm" / marker_file).touch()
    assert _ingest(lake, landing, source, "b4").changed == 1


# --- 5. row-granular quarantine for every format, counts that add up --------------------------


def test_an_invalid_utf8_parquet_value_quarantines_its_row_only(lake, landing) -> None:
    emails = [f"p{i}@x.com".encode() for i in range(50)]
    emails[17] = b"bad\xff\xfe@x.com"
    table = pa.table(
        {
            "id": [str(i) for i in range(50)],
            "email": pa.array(emails, pa.binary()).view(pa.string()),
            "score": pa.array([1.5] * 47 + [float("nan"), float("inf"), None], pa.float64()),
        }
    )
    pq.write_table(table, landing / "crm" / "members.parquet")
    result = _ingest(lake, landing, _source("parquet"))
    assert (result.rows_in, result.landed, result.quarantined) == (50, 47, 3)
    reasons = {r["_row"]: r["_reason"] for r in _quarantine(lake)}
    assert reasons == {
        18: "column 'email': bytes not valid utf-8",
        48: "column 'score': nan is not a number value",
        49: "column 'score': inf is not finite",
    }
    assert len(_raw(lake)) == 47


def test_an_oversized_csv_field_quarantines_its_row_and_reading_goes_on(lake, landing) -> None:
    rows = [f"{i},c{i}@x.com" for i in range(1, 12)]
    rows[5] = "6," + "x" * 5000
    (landing / "crm" / "day1.csv").write_text("id,email\n" + "\n".join(rows) + "\n")
    source = _source(csv={"field_size_limit": 1000})
    result = _ingest(lake, landing, source)
    assert (result.rows_in, result.landed, result.quarantined) == (11, 10, 1)
    (reject,) = _quarantine(lake)
    assert reject["_row"] == 6 and reject["_raw"] == rows[5]
    assert reject["_reason"] == "CSV error at line 7: field larger than field limit (1000)"
    assert sorted(int(r["id"]) for r in _raw(lake)) == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]


BOMS = {
    "utf-16-le": codecs.BOM_UTF16_LE,
    "utf-16-be": codecs.BOM_UTF16_BE,
    "utf-32-le": codecs.BOM_UTF32_LE,
    "utf-32-be": codecs.BOM_UTF32_BE,
    "utf-8": codecs.BOM_UTF8,
}
NAMES = ["Zoë", "Łukasz", "José", "Þóra", "Nguyễn"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_byte_order_mark_decides_the_encoding(lake, landing, fmt) -> None:
    if fmt == "csv":
        text = "id,email,name\n" + "".join(f"{i},{i}@x.com,{n}\n" for i, n in enumerate(NAMES, 1))
    else:
        text = "".join(
            json.dumps({"id": str(i), "email": f"{i}@x.com", "name": n}, ensure_ascii=False) + "\n"
            for i, n in enumerate(NAMES, 1)
        )
    for codec, bom in BOMS.items():
        (landing / "crm" / f"{codec}.{fmt}").write_bytes(bom + text.encode(codec))
    result = _ingest(lake, landing, _source(fmt))
    assert (result.files_ingested, result.rows_in, result.landed, result.quarantined) == (
        5,
        25,
        25,
        0,
    )
    raw = _raw(lake)
    for codec in BOMS:
        landed = sorted(
            (r for r in raw if r["_file"] == f"crm/{codec}.{fmt}"), key=lambda r: r["_row"]
        )
        assert [r["name"] for r in landed] == NAMES, codec
    payload = [c for c in lake.read("raw", "crm__customer").column_names if not c.startswith("_")]
    assert payload == ["id", "email", "name"]  # no BOM in the first column's name


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_a_utf16_file_cut_mid_character_goes_to_quarantine_whole(lake, landing, fmt) -> None:
    good = "id,email\n1,a@x.com\n" if fmt == "csv" else '{"id": "1", "email": "a@x.com"}\n'
    (landing / "crm" / f"cut.{fmt}").write_bytes(good.encode("utf-16") + b"\x00")
    (landing / "crm" / f"whole.{fmt}").write_bytes(good.replace("1", "2").encode("utf-16"))
    result = _ingest(lake, landing, _source(fmt))
    assert (result.files_ingested, result.rows_in, result.landed, result.quarantined) == (
        2,
        2,
        1,
        1,
    )
    (reject,) = _quarantine(lake)
    assert reject["_file"] == f"crm/cut.{fmt}" and reject["_row"] is None
    assert reject["_reason"].startswith("unreadable utf-16")
    assert [r["id"] for r in _raw(lake)] == ["2"]
    assert _ingest(lake, landing, _source(fmt)).files_skipped == 2  # both recorded once


def test_column_names_differing_only_in_case_are_one_column_or_a_clear_conflict(
    lake, landing
) -> None:
    (landing / "crm" / "a.csv").write_text("id,email,Status\n1,a@x.com,active\n")
    (landing / "crm" / "b.csv").write_text("id,EMAIL,status\n2,b@x.com,closed\n")
    (landing / "crm" / "c.csv").write_text("id,email,Status,status\n3,c@x.com,x,y\n")
    result = _ingest(lake, landing, _source())
    assert (result.rows_in, result.landed, result.quarantined) == (3, 2, 1)
    raw = lake.read("raw", "crm__customer")
    payload = [c for c in raw.column_names if not c.startswith("_")]
    assert payload == ["id", "email", "Status"]  # the configured spelling, else the first landed
    assert {r["id"]: (r["email"], r["Status"]) for r in raw.to_pylist()} == {
        "1": ("a@x.com", "active"),
        "2": ("b@x.com", "closed"),
    }
    (reject,) = _quarantine(lake)
    assert reject["_file"] == "crm/c.csv" and reject["_row"] is None
    assert reject["_reason"] == "columns 'Status' and 'status' differ only in case"


# --- 6. configuration mistakes caught at landing --------------------------------------------


def test_a_mapping_to_a_column_the_file_lacks_is_an_error_naming_it(lake, landing) -> None:
    (landing / "crm" / "day1.csv").write_text("id,e_mail,phone\n1,a@x.com,0113\n")
    with pytest.raises(IngestError) as error:
        _ingest(lake, landing, _source(mapping={"email": "email", "phone": "phone"}))
    assert str(error.value) == (
        "source 'crm': mapping.email names column 'email', which crm/day1.csv does not have; "
        "its columns: id, e_mail, phone"
    )
    assert lake.read("raw", "crm__customer") is None and lake.read("quarantine", "crm") is None
    with pytest.raises(IngestError, match="key names column 'id'"):
        (landing / "crm" / "day1.csv").write_text("ident,email\n1,a@x.com\n")
        _ingest(lake, landing, _source())
    with pytest.raises(IngestError, match="required names column 'dob'"):
        (landing / "crm" / "day1.csv").write_text("id,email\n1,a@x.com\n")
        _ingest(lake, landing, _source(required=["dob"]))


def test_a_glob_matching_nothing_is_an_error_until_a_file_has_landed(lake, landing) -> None:
    with pytest.raises(IngestError) as error:
        _ingest(lake, landing, _source(path="crm/*.csv"))
    assert str(error.value) == f"source 'crm': no landing file matches 'crm/*.csv' under {landing}"
    (landing / "crm" / "day1.csv").write_text("id,email\n1,a@x.com\n")
    assert _ingest(lake, landing, _source(path="crm/*.csv")).landed == 1
    (landing / "crm" / "day1.csv").rename(landing / "crm" / "day1.csv.done")
    later = _ingest(lake, landing, _source(path="crm/*.csv"), "b2")
    assert (later.files_found, later.landed) == (0, 0)
    assert later.notes == [
        f"source 'crm': no landing file matches 'crm/*.csv' under {landing} "
        "(files landed before; nothing new)"
    ]


def test_an_edited_file_of_only_bad_rows_quarantines_only_its_new_bad_rows(lake, landing) -> None:
    file = landing / "crm" / "day1.csv"
    file.write_text("id,email\n,a@x.com\n")
    assert _ingest(lake, landing, _source()).quarantined == 1
    file.write_text("id,email\n,a@x.com\n,b@x.com\n")
    edit = _ingest(lake, landing, _source(), "b2")
    assert (edit.rows_in, edit.quarantined, edit.unchanged) == (2, 1, 1)
    assert sorted(r["_row"] for r in _quarantine(lake)) == [1, 2]
    file.write_text(file.read_text() + "\n\n")
    same = _ingest(lake, landing, _source(), "b3")
    assert (same.files_ingested, same.quarantined, same.unchanged) == (1, 0, 2)
    assert _ingest(lake, landing, _source(), "b4").files_skipped == 1
    assert len(_quarantine(lake)) == 2 and lake.read("raw", "crm__customer") is None


def test_a_crash_while_landing_an_edited_file_recovers_without_duplicates(
    lake, landing, monkeypatch
) -> None:
    file = landing / "crm" / "day1.csv"
    file.write_text("id,email\n1,a@x.com\n2,b@x.com\n")
    _ingest(lake, landing, _source())
    file.write_text("id,email\n1,a@x.com\n2,b2@x.com\n3,c@x.com\n,nokey@x.com\n")
    real_append = Lake.append

    def crash_on_raw(self, zone, name, data, **kwargs):
        if zone == "raw":
            raise RuntimeError("simulated crash")
        return real_append(self, zone, name, data, **kwargs)

    monkeypatch.setattr(Lake, "append", crash_on_raw)
    with pytest.raises(RuntimeError):
        _ingest(lake, landing, _source(), "b2")
    monkeypatch.setattr(Lake, "append", real_append)
    rerun = _ingest(lake, landing, _source(), "b3")
    assert (rerun.rows_in, rerun.landed, rerun.quarantined, rerun.unchanged) == (4, 2, 1, 1)
    assert sorted((r["id"], r["email"]) for r in _raw(lake)) == [
        ("1", "a@x.com"),
        ("2", "b2@x.com"),
        ("2", "b@x.com"),
        ("3", "c@x.com"),
    ]
    assert len(_quarantine(lake)) == 1
    _assert_each_version_once(lake)


def test_a_file_moved_away_mid_run_lands_nothing_and_the_rest_lands(
    lake, landing, monkeypatch
) -> None:
    old, young = landing / "crm" / "a.csv", landing / "crm" / "b.csv"
    old.write_text("id,email\n1,a@x.com\n")
    _age(old)
    young.write_text("id,email\n2,b@x.com\n")
    real_wait = deliveries._wait

    def source_moves_the_old_file(seconds: float) -> None:
        old.rename(landing / "a.csv.moved")
        real_wait(seconds)

    monkeypatch.setattr(deliveries, "_wait", source_moves_the_old_file)
    result = _ingest(lake, landing, _source(settle_seconds=0.2))
    assert (result.files_found, result.files_ingested, result.landed) == (2, 1, 1)
    assert result.unsettled == ["crm/a.csv (gone before it was read)"]
    assert [r["id"] for r in _raw(lake)] == ["2"]
