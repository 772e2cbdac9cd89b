"""Landing file readers: every row is parsed or rejected with a reason; nothing is dropped."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from e360.config import SourceConfig
from ingestion.readers import read_file


def _source(fmt: str, **extra) -> SourceConfig:
    return SourceConfig(
        entity="customer", format=fmt, path="x", key="id", mapping={"email": "email"}, **extra
    )


def test_csv_rows_with_wrong_field_counts_or_missing_keys_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "id,email,city\n"
        "1,a@x.com,Leeds\n"
        "2,b@x.com,York,extra\n"
        ",c@x.com,Hull\n"
        '3,"quoted, comma",Bath\n'
        "\n"
        "4,d@x.com\n"
    )
    rows = read_file(path, _source("csv"))
    assert [r["id"] for r in rows.rows] == ["1", "3"]
    assert rows.rows[1]["email"] == "quoted, comma"
    assert rows.row_numbers == [1, 4]
    reasons = {r.row: r.reason for r in rows.rejects}
    assert reasons == {
        2: "row has 4 fields, the header has 3",
        3: "missing key column 'id'",
        5: "row has 2 fields, the header has 3",  # blank lines are not records
    }
    assert rows.rejects[0].raw == "2,b@x.com,York,extra"
    assert rows.rows_in == 5


def test_csv_undecodable_bytes_quarantine_the_row_only(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(b"id,email\n1,a@x.com\n2,\xff\xfe@x.com\n")
    rows = read_file(path, _source("csv"))
    assert [r["id"] for r in rows.rows] == ["1"]
    assert rows.rejects[0].row == 2 and "not valid utf-8" in rows.rejects[0].reason


def test_jsonl_invalid_lines_and_non_objects_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text(
        json.dumps({"id": "a1", "email": "x@y.z", "n": 3, "ok": True, "tags": ["p", "q"]})
        + "\n"
        + '{"id": "a2", "email": \n'
        + "[1, 2]\n"
        + json.dumps({"email": "nokey@y.z"})
        + "\n"
    )
    rows = read_file(path, _source("jsonl"))
    assert rows.rows == [
        {"id": "a1", "email": "x@y.z", "n": "3", "ok": "true", "tags": '["p", "q"]'}
    ]
    reasons = [r.reason for r in rows.rejects]
    assert reasons[0].startswith("invalid JSON:")
    assert reasons[1] == "expected a JSON object, got list"
    assert reasons[2] == "missing key column 'id'"
    assert rows.rows_in == 4


def test_parquet_values_become_text_and_required_columns_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(
        pa.table(
            {
                "id": pa.array([1, 2, None], pa.int64()),
                "email": ["a@x.com", None, "c@x.com"],
                "dob": pa.array([date(1980, 1, 2), None, None], pa.date32()),
                "joined": pa.array([datetime(2024, 5, 1, 12, 30), None, None], pa.timestamp("us")),
            }
        ),
        path,
    )
    rows = read_file(path, _source("parquet", required=["email"]))
    assert rows.rows[0]["id"] == "1" and rows.rows[0]["dob"] == "1980-01-02"
    assert rows.rows[0]["joined"].startswith("2024-05-01 12:30:00")
    assert [(r.row, r.reason) for r in rows.rejects] == [
        (2, "missing required column 'email'"),
        (3, "missing key column 'id'"),
    ]


def test_unreadable_parquet_is_one_reject_naming_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.parquet"
    path.write_bytes(b"PAR1 this is not parquet")
    rows = read_file(path, _source("parquet"))
    assert rows.rows == []
    assert len(rows.rejects) == 1 and "unreadable Parquet file" in rows.rejects[0].reason


def test_csv_header_problems_reject_the_file_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,email,\n1,a@x.com,\n")
    rows = read_file(path, _source("csv"))
    assert rows.rows == [] and rows.rejects[0].reason == "column 3 of the header has no name"
    path.write_text("id,email,email\n1,a@x.com,b@x.com\n")
    rows = read_file(path, _source("csv"))
    assert rows.rejects[0].reason == "column 'email' appears twice in the header"


def test_csv_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes("id,email\n1,a@x.com\n".encode("utf-8-sig"))
    rows = read_file(path, _source("csv"))
    assert rows.rows == [{"id": "1", "email": "a@x.com"}]


def test_csv_broken_quoting_keeps_the_rest_of_the_file_in_quarantine(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,email\n1,a@x.com\n2,"unclosed\n3,c@x.com\n')
    rows = read_file(path, _source("csv"))
    assert [r["id"] for r in rows.rows] == ["1"]
    assert len(rows.rejects) == 1 and "CSV error" in rows.rejects[0].reason
    assert "3,c@x.com" in rows.rejects[0].raw


def test_csv_fields_larger_than_the_csv_default_limit_are_read(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,email\n1," + "x" * 200_000 + "\n")
    assert len(read_file(path, _source("csv")).rows[0]["email"]) == 200_000


def test_jsonl_lone_surrogates_and_empty_names_are_rejected(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "1", "email": "\\ud800"}\n{"id": "2", "": "x"}\n{"id": "3"}\n')
    rows = read_file(path, _source("jsonl"))
    assert [r["id"] for r in rows.rows] == ["3"]
    assert [r.reason for r in rows.rejects] == [
        "invalid unicode escape (a lone surrogate)",
        "a field has an empty name",
    ]


def test_csv_a_field_above_the_limit_is_one_bad_row_and_the_rest_is_read(tmp_path: Path) -> None:
    # The case is a 70 MiB field against the 64 MiB default; a small limit keeps it quick.
    assert SourceConfig.model_fields["csv"].default.field_size_limit == 64 * 1024 * 1024
    path = tmp_path / "c.csv"
    lines = [f"{i},c{i}@x.com" for i in range(1, 12)]
    lines[5] = '6,"' + "x\n" * 600 + '"'  # a quoted field over many lines, above the limit
    path.write_text("id,email\n" + "\n".join(lines) + "\n")
    rows = read_file(path, _source("csv", csv={"field_size_limit": 1000}))
    assert rows.rows_in == 11 and rows.row_numbers == [1, 2, 3, 4, 5, 7, 8, 9, 10, 11]
    (reject,) = rows.rejects
    assert reject.row == 6 and reject.reason.startswith("CSV error at line 7: field larger")
    assert reject.raw == lines[5]  # every line of the record, verbatim


def test_csv_bad_quoting_mid_file_quarantines_that_row_and_reading_goes_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,email\n1,a@x.com\n2,"b"@x.com\n3,c@x.com\n')
    rows = read_file(path, _source("csv"))
    assert [r["id"] for r in rows.rows] == ["1", "3"] and rows.row_numbers == [1, 3]
    assert [(r.row, r.raw) for r in rows.rejects] == [(2, '2,"b"@x.com')]
    assert rows.rejects[0].reason.startswith("CSV error at line 3:")


def test_jsonl_nesting_is_bounded_and_non_finite_numbers_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.jsonl"

    def nested(depth: int) -> str:
        return f'{{"id": "{depth}", "x": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"

    path.write_text(
        "\n".join([nested(64), nested(65), nested(5000), '{"id": "i", "v": Infinity}']) + "\n"
    )
    rows = read_file(path, _source("jsonl"))
    assert [r["id"] for r in rows.rows] == ["64"]
    assert [(r.row, r.reason) for r in rows.rejects] == [
        (2, "JSON nested deeper than 64 levels"),
        (3, "JSON nested deeper than 64 levels"),
        (4, "invalid JSON: Infinity is not a JSON number"),
    ]


def test_parquet_rows_with_bad_values_are_rejected_one_by_one(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    text = pa.array([b"a@x.com", b"\xc3\x28", None], pa.binary()).view(pa.string())
    pq.write_table(
        pa.table(
            {
                "id": ["1", "2", "3"],
                "email": text,
                "score": pa.array([0.5, 1.0, float("-inf")], pa.float32()),
            }
        ),
        path,
    )
    rows = read_file(path, _source("parquet"))
    assert rows.rows == [{"id": "1", "email": "a@x.com", "score": "0.5"}]
    assert [(r.row, r.reason) for r in rows.rejects] == [
        (2, "column 'email': bytes not valid utf-8"),
        (3, "column 'score': -inf is not finite"),
    ]
    assert json.loads(rows.rejects[0].raw)["email"] == "\ufffd("


def test_column_names_differing_only_in_case_are_a_header_problem(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,Email,email\n1,a@x.com,b@x.com\n")
    rows = read_file(path, _source("csv"))
    assert rows.rows == [] and rows.rejects[0].reason == (
        "columns 'Email' and 'email' differ only in case"
    )
    path = tmp_path / "a.jsonl"
    path.write_text('{"id": "1", "Email": "a@x.com"}\n{"id": "2", "email": "b@x.com"}\n')
    rows = read_file(path, _source("jsonl"))
    assert rows.columns == ["id", "Email"]  # one column: the first spelling in the file
    assert [r["Email"] for r in rows.rows] == ["a@x.com", "b@x.com"]


def test_parquet_binary_columns_land_as_hex(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    pq.write_table(pa.table({"id": ["1"], "photo": pa.array([b"\xff\x00"], pa.binary())}), path)
    assert read_file(path, _source("parquet")).rows == [{"id": "1", "photo": "ff00"}]


def test_csv_latin1_semicolon_file_reads_with_its_options(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes('id;email;city\n1;a@x.com;Málaga\n2;"b;c@x.com";Köln\n'.encode("latin-1"))
    rows = read_file(path, _source("csv", csv={"encoding": "latin-1", "delimiter": ";"}))
    assert [r["city"] for r in rows.rows] == ["Málaga", "Köln"]
    assert rows.rows[1]["email"] == "b;c@x.com" and not rows.rejects
    # Read as UTF-8 (the default), the same bytes are quarantined row by row, not lost.
    as_utf8 = read_file(path, _source("csv", csv={"delimiter": ";"}))
    assert [(r.row, r.reason) for r in as_utf8.rejects] == [
        (1, "bytes not valid utf-8-sig"),
        (2, "bytes not valid utf-8-sig"),
    ]


def test_csv_without_quoting_quote_characters_are_data(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text('id,email,note\n1,a@x.com,say "hi\n2,b@x.com,6" nails\n')
    rows = read_file(path, _source("csv", csv={"quote_char": None}))
    assert [r["note"] for r in rows.rows] == ['say "hi', '6" nails'] and not rows.rejects


def test_csv_other_quote_and_escape_characters(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,email,note\n1,a@x.com,'one, two'\n2,b@x.com,three\\, four\n")
    options = {"quote_char": "'", "escape_char": "\\", "double_quote": False}
    rows = read_file(path, _source("csv", csv=options))
    assert [r["note"] for r in rows.rows] == ["one, two", "three, four"] and not rows.rejects


def test_a_broken_csv_record_ends_where_its_quote_does_escaped_quotes_aside(
    tmp_path: Path,
) -> None:
    """An escaped quote is data: recovery after an oversized field must not read it as an
    open quote and swallow the records after it."""
    path = tmp_path / "c.csv"
    path.write_text('id,note\n1,"far too \\" long"\n2,ok\n3,"it\\"s"\n4,fine\n')
    options = {"escape_char": "\\", "double_quote": False, "field_size_limit": 8}
    rows = read_file(path, _source("csv", csv=options))
    assert [(r.row, r.reason) for r in rows.rejects] == [
        (1, "CSV error at line 2: field larger than field limit (8)")
    ]
    assert [r["note"] for r in rows.rows] == ["ok", 'it"s', "fine"]


def test_a_utf16_file_cut_mid_character_is_one_reject_naming_the_problem(tmp_path: Path) -> None:
    csv_path, jsonl_path = tmp_path / "c.csv", tmp_path / "a.jsonl"
    csv_path.write_bytes("id,email\n1,a@x.com\n".encode("utf-16") + b"\x00")
    jsonl_path.write_bytes('{"id": "1", "email": "a@x.com"}\n'.encode("utf-16") + b"\x00")
    for path, fmt in ((csv_path, "csv"), (jsonl_path, "jsonl")):
        rows = read_file(path, _source(fmt))
        assert rows.rows == []
        assert [(r.row, r.raw) for r in rows.rejects] == [(None, None)]
        assert rows.rejects[0].reason.startswith("unreadable utf-16")
        assert "truncated data" in rows.rejects[0].reason
