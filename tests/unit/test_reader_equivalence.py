"""The fast readers give exactly what the readers they replaced gave, shape by shape.

The previous row-by-row CSV reader (a Python wrapper around every line) and the previous
value-by-value Parquet decoding are kept below, verbatim but for names, as the reference:
row numbers, quarantine reasons and raw bytes, and so payload hashes, must not move, or a lake
landed before would see every file as changed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from e360.config import SourceConfig
from ingestion import readers
from ingestion import rows as rows_module
from ingestion.readers import FileRows, Reject
from ingestion.rows import RowsBuilder, payload_hashes


@dataclass
class _Rows:
    """The per-row FileRows the columnar one replaced, verbatim but for its name."""

    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str | None]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    def add(self, row_number: int, values: dict[str, str | None]) -> None:
        if values.keys() <= self._exact:
            self.rows.append(values)
            self.row_numbers.append(row_number)
            return
        if any(self._known.get(name.casefold(), name) != name for name in values):
            values = {self._known.get(name.casefold(), name): v for name, v in values.items()}
        for name in values:
            if name.casefold() not in self._known:
                self._known[name.casefold()] = name
                self._exact.add(name)
                self.columns.append(name)
        self.rows.append(values)
        self.row_numbers.append(row_number)

    def __post_init__(self) -> None:
        self.set_columns(self.columns)

    def set_columns(self, columns: list[str]) -> None:
        self.columns = list(columns)
        self._known: dict[str, str] = {name.casefold(): name for name in columns}
        self._exact = set(self._known.values())


def _reference_apply_contract(parsed: _Rows, source: SourceConfig) -> _Rows:
    checked = _Rows(columns=parsed.columns, rejects=list(parsed.rejects))
    required = [source.key, *(c for c in source.required if c != source.key)]
    for number, values in zip(parsed.row_numbers, parsed.rows, strict=True):
        missing = [c for c in required if _reference_blank(values.get(c))]
        if missing:
            what = "key column" if missing[0] == source.key else "required column"
            reason = f"missing {what} '{missing[0]}'"
            if len(missing) > 1:
                reason += f" (also missing: {', '.join(missing[1:])})"
            checked.rejects.append(Reject(number, readers.as_raw(values), reason))
        else:
            checked.add(number, values)
    checked.rejects.sort(key=lambda r: (r.row is None, r.row or 0))
    return checked


def _reference_blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _reference_payload_hash(row: dict[str, str | None]) -> str:
    """The per-row payload hash every row landed with before the columnar one."""
    return hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest()


class _ReferenceLines:
    def __init__(self, text: str) -> None:
        self._lines = iter(io.StringIO(text, newline=""))
        self.taken: list[str] = []
        self.count = 0

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.taken.append(line)
        self.count += 1
        return line

    def close_quote(self, quote: str, escape: str | None = None) -> None:
        def quotes(line: str) -> int:
            if escape:
                line = line.replace(escape + escape, "").replace(escape + quote, "")
            return line.count(quote)

        open_quotes = sum(quotes(line) for line in self.taken) % 2
        for line in self if open_quotes else ():
            if quotes(line) % 2:
                break

    def record(self) -> str:
        text, self.taken = "".join(self.taken), []
        return text.rstrip("\r\n")


def _reference_has_surrogates(value: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def _reference_read_csv(path: Path, source: SourceConfig) -> _Rows:
    result = _Rows()
    encoding = readers._file_encoding(path, source.csv.encoding)
    text = path.read_text(encoding=encoding, errors="surrogateescape")
    csv.field_size_limit(source.csv.field_size_limit)
    lines = _ReferenceLines(text)
    reader = csv.reader(lines, strict=True, **readers.csv_dialect(source.csv))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        result.rejects.append(
            Reject(None, readers._printable(text[:2000]), f"unreadable CSV header: {exc}")
        )
        return result
    lines.record()
    if header is None:
        return result
    header = [h.strip() for h in header]
    problem = readers.header_problem(header)
    if problem:
        result.rejects.append(Reject(None, readers._csv_line(header, source.csv), problem))
        return result
    result.set_columns(header)
    number = 0
    while True:
        start = lines.count + 1
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            number += 1
            if reader.dialect.quotechar is not None:
                lines.close_quote(reader.dialect.quotechar, reader.dialect.escapechar)
            reason = f"CSV error at line {start}: {exc}"
            result.rejects.append(Reject(number, readers._printable(lines.record()), reason))
            continue
        raw = lines.record()
        if not fields:
            continue
        number += 1
        if any(_reference_has_surrogates(value) for value in fields):
            reason = f"bytes not valid {encoding}"
            result.rejects.append(Reject(number, readers._printable(raw), reason))
        elif len(fields) != len(header):
            reason = f"row has {len(fields)} fields, the header has {len(header)}"
            result.rejects.append(Reject(number, raw, reason))
        else:
            result.rows.append(dict(zip(header, fields, strict=True)))
            result.row_numbers.append(number)
    return result


def _reference_read_jsonl(path: Path) -> _Rows:
    result = _Rows()
    for number, line in enumerate(readers._jsonl_lines(path), start=1):
        obj, reason = _reference_json_object(line)
        values = {} if obj is None else {str(k): readers._json_text(v) for k, v in obj.items()}
        reason = reason or _reference_fields_problem(values)
        if reason is None:
            result.add(number, values)
        else:
            text = readers._printable(line.decode("utf-8", errors="surrogateescape"))
            result.rejects.append(Reject(number, text.rstrip("\r\n"), reason))
    return result


def _reference_json_object(line: bytes) -> tuple[dict | None, str | None]:
    depth = readers.MAX_JSON_DEPTH
    try:
        obj = json.loads(line.decode("utf-8"), parse_constant=readers._no_constant)
    except UnicodeDecodeError:
        return None, "bytes not valid utf-8"
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return None, f"JSON nested deeper than {depth} levels"
    except ValueError as exc:
        return None, f"invalid JSON: {exc}"
    if not isinstance(obj, dict):
        return None, f"expected a JSON object, got {type(obj).__name__}"
    if readers._depth(obj) > depth:
        return None, f"JSON nested deeper than {depth} levels"
    return obj, None


def _reference_fields_problem(values: dict[str, str | None]) -> str | None:
    if any(not key.strip() for key in values):
        return "a field has an empty name"
    if any(
        _reference_has_surrogates(k) or _reference_has_surrogates(v or "")
        for k, v in values.items()
    ):
        return "invalid unicode escape (a lone surrogate)"
    folded: dict[str, str] = {}
    for key in values:
        if key.casefold() in folded:
            return f"fields '{folded[key.casefold()]}' and '{key}' differ only in case"
        folded[key.casefold()] = key
    return None


@dataclass(frozen=True)
class _Cell:
    text: str | None
    reason: str | None = None


def _reference_text_values(column: pa.ChunkedArray, written: pa.DataType) -> list[_Cell]:
    kind = column.type
    if pa.types.is_string(written) or pa.types.is_large_string(written):
        return [_reference_decoded(v) for v in column.to_pylist()]
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        return [_Cell(None if v is None else v.hex()) for v in column.to_pylist()]
    if pa.types.is_nested(kind):
        return [_Cell(readers._json_text(v)) for v in column.to_pylist()]
    texts = column.cast(pa.string()).to_pylist()
    if not pa.types.is_floating(kind):
        return [_Cell(t) for t in texts]
    return [
        _Cell(t, readers._not_finite(v)) for t, v in zip(texts, column.to_pylist(), strict=True)
    ]


def _reference_decoded(value: bytes | None) -> _Cell:
    if value is None:
        return _Cell(None)
    try:
        return _Cell(value.decode("utf-8"))
    except UnicodeDecodeError:
        return _Cell(value.decode("utf-8", errors="replace"), "bytes not valid utf-8")


def _reference_read_parquet(path: Path) -> _Rows:
    result = _Rows()
    schema = pq.read_schema(path)
    table = pq.read_table(path, schema=pa.schema([readers._as_bytes_field(f) for f in schema]))
    columns = [
        _reference_text_values(table.column(i), schema.field(i).type)
        for i in range(table.num_columns)
    ]
    names = table.column_names
    result.set_columns(names)
    for number, cells in enumerate(zip(*columns, strict=True), start=1):
        bad = [(name, cell.reason) for name, cell in zip(names, cells, strict=True) if cell.reason]
        values = {name: cell.text for name, cell in zip(names, cells, strict=True)}
        if bad:
            name, reason = bad[0]
            raw = json.dumps(values, ensure_ascii=False, sort_keys=False)
            result.rejects.append(Reject(number, raw, f"column '{name}': {reason}"))
        else:
            result.rows.append(values)
            result.row_numbers.append(number)
    return result


def _source(fmt: str, **extra) -> SourceConfig:
    return SourceConfig(
        entity="customer", format=fmt, path="x", key="id", mapping={"email": "email"}, **extra
    )


def _same(got: FileRows, want: _Rows) -> None:
    assert got.columns == want.columns
    assert got.rows == want.rows
    assert [list(r) for r in got.rows] == [list(r) for r in want.rows]  # column order too
    assert got.row_numbers == want.row_numbers
    assert got.rejects == want.rejects
    assert got.table is not None and got.table.column_names == got.columns
    # The columnar hashes are the per-row ones, row for row (a row's identity across runs).
    assert payload_hashes(got).to_pylist() == [_reference_payload_hash(r) for r in want.rows]


_LONG = "x" * 1500
CSV_SHAPES: dict[str, tuple[bytes, dict]] = {
    "clean": (b"id,email,city\n1,a@x.com,Leeds\n2,b@x.com,York\n", {}),
    "short and long rows": (
        b"id,email,city\n1,a@x.com,Leeds\n2,b@x.com,York,extra\n,c@x.com,Hull\n"
        b'3,"quoted, comma",Bath\n\n4,d@x.com\n',
        {},
    ),
    "unclosed quote keeps the rest": (b'id,email\n1,a@x.com\n2,"unclosed\n3,c@x.com\n', {}),
    "quote after a closed field": (b'id,email\n1,a@x.com\n2,"b"@x.com\n3,c@x.com\n', {}),
    "quotes inside unquoted fields": (
        b'id,email,note\n1,a@x.com,say "hi\n2,b@x.com,6" nails\n',
        {},
    ),
    "quoted newlines and doubled quotes": (
        b'id,email,note\n1,a@x.com,"two\nlines"\n2,b@x.com,"say ""hi"""\n'
        b'3,c@x.com,"three\r\nlines\rhere"\n4,"d@x.com",plain\n',
        {},
    ),
    "broken record spanning lines mid-file": (
        b'id,email,note\n1,a@x.com,"open\nstill"x\n2,b@x.com,ok\n3,c@x.com,"a\nb\n"\n',
        {},
    ),
    "oversized field": (
        b"id,email\n1,a@x.com\n2," + _LONG.encode() + b"\n3,c@x.com\n",
        {"csv": {"field_size_limit": 1000}},
    ),
    "oversized quoted field over lines": (
        b'id,email\n1,"' + _LONG.encode() + b"\n" + _LONG.encode() + b'"\n3,c@x.com\n',
        {"csv": {"field_size_limit": 1000}},
    ),
    "undecodable bytes": (b'id,email\n1,a@x.com\n2,\xff\xfe@x.com\n3,"\xc3\n\xa9"\n', {}),
    "latin-1 and semicolons": (
        'id;email;city\n1;a@x.com;Málaga\n2;"b;c@x.com";Köln\n'.encode("latin-1"),
        {"csv": {"encoding": "latin-1", "delimiter": ";"}},
    ),
    "latin-1 read as utf-8": (
        'id;email;city\n1;a@x.com;Málaga\n2;"b;c@x.com";Köln\n'.encode("latin-1"),
        {"csv": {"delimiter": ";"}},
    ),
    "utf-8 BOM": ("id,email\n1,a@x.com\n".encode("utf-8-sig"), {}),
    "utf-16 BOM": ("id,email,name\n1,a@x.com,Zoë\n2,b@x.com,Łukasz\n".encode("utf-16"), {}),
    "utf-32 BOM": ("id,email,name\n1,a@x.com,Zoë\n".encode("utf-32"), {}),
    "no quoting": (
        b'id,email,note\n1,a@x.com,say "hi\n2,b@x.com,"6" nails\n',
        {"csv": {"quote_char": None}},
    ),
    "other quote and escape": (
        b"id,email,note\n1,a@x.com,'one, two'\n2,b@x.com,three\\, four\n",
        {"csv": {"quote_char": "'", "escape_char": "\\"}},
    ),
    "escaped quotes in a broken record": (
        b'id,note\n1,"far too \\" long"\n2,ok\n3,"it\\"s"\n4,fine\n',
        {"csv": {"escape_char": "\\", "double_quote": False, "field_size_limit": 8}},
    ),
    "escape at the end of a line": (
        b"id,email,note\n1,a@x.com,end\\\nnext\n2,b@x.com,x\\\n",
        {"csv": {"escape_char": "\\"}},
    ),
    "blank and whitespace lines": (b"id,email\n\n1,a@x.com\n\r\n  \n2,b@x.com\n\n", {}),
    "a blank first line": (b"\nid,email\n1,a@x.com\n", {}),
    "CRLF": (b'id,email\r\n1,a@x.com\r\n2,"b\r\nc"\r\n3,c@x.com,x\r\n', {}),
    "bare CR": (b"id,email\r1,a@x.com\r2,b@x.com\r", {}),
    "no trailing newline": (b"id,email\n1,a@x.com\n2,b@x.com", {}),
    "cut mid-row": (b"id,email\n1,a@x.com\n2", {}),
    "header only": (b"id,email\n", {}),
    "header only, no newline": (b"id,email", {}),
    "empty file": (b"", {}),
    "header problems": (b"id,Email,email\n1,a@x.com,b@x.com\n", {}),
    "header with a blank name": (b"id,email,\n1,a@x.com,\n", {}),
    "unreadable header": (b'"id,email\n1,a@x.com\n', {}),
    "NUL byte": (b"id,email\n1,a\x00@x.com\n2,b@x.com\n", {}),
    "missing key and required": (b"id,email\n,a@x.com\n2,\n3,  \n", {"required": ["email"]}),
}


@pytest.mark.parametrize("shape", list(CSV_SHAPES))
def test_csv_reader_gives_what_the_line_by_line_reader_gave(tmp_path: Path, shape: str) -> None:
    data, extra = CSV_SHAPES[shape]
    path = tmp_path / "c.csv"
    path.write_bytes(data)
    source = _source("csv", **extra)
    want = _reference_read_csv(path, source)
    _same(readers.parse_file(path, source), want)
    _same(readers.read_file(path, source), _reference_apply_contract(want, source))


def test_csv_shapes_cover_every_kind_of_reject(tmp_path: Path) -> None:
    reasons: set[str] = set()
    for data, extra in CSV_SHAPES.values():
        path = tmp_path / "c.csv"
        path.write_bytes(data)
        reasons |= {
            r.reason.split(":")[0].split(" at line")[0]
            for r in readers.read_file(path, _source("csv", **extra)).rejects
        }
    assert {
        "CSV error",
        "bytes not valid utf-8-sig",
        "row has 4 fields, the header has 3",
        "unreadable CSV header",
        "missing key column 'id'",
        "missing required column 'email'",
        "columns 'Email' and 'email' differ only in case",
    } <= reasons


def _deep(levels: int) -> str:
    return '{"id": "d", "x": ' + "[" * levels + "1" + "]" * levels + "}"


JSONL_SHAPES: dict[str, bytes] = {
    "clean": b'{"id": "1", "email": "a@x.com", "n": 3, "ok": true, "tags": ["p", "q"]}\n'
    b'{"id": "2", "email": null, "f": 1.5, "o": {"b": 1, "a": [2]}}\n',
    "broken lines and non-objects": b'{"id": "a2", "email": \n[1, 2]\n"text"\n{"id": "3"}\n\n',
    "surrogates and empty names": b'{"id": "1", "email": "\\ud800"}\n{"id": "2", "": "x"}\n'
    b'{"\\udc00": "1"}\n{" ": "x", "\\ud800": "y"}\n{"id": "3", "e": "\\u00e9\\ud83d\\ude42"}\n',
    "names differing in case": b'{"id": "1", "Email": "a"}\n{"id": "2", "email": "b"}\n'
    b'{"id": "3", "X": "a", "x": "b"}\n{"": "1", "X": "a", "x": "b"}\n',
    "depth": (_deep(63) + "\n" + _deep(64) + "\n" + _deep(70) + "\n" + _deep(2000) + "\n").encode(),
    "brackets in strings": b'{"id": "1", "note": "{[{[ not nested"}\n{"id": "2", "n": "\\u007b"}\n',
    "constants and big numbers": b'{"id": "1", "x": NaN}\n{"id": "2", "x": -Infinity}\n'
    b'{"id": "3", "x": 1e400}\n{"id": "4", "x": ' + b"9" * 5000 + b"}\n",
    "BOM on the first and a later line": '\ufeff{"id": "1"}\n\ufeff{"id": "2"}\n'.encode(),
    "bad bytes": b'{"id": "1", "email": "\xff"}\n{"id": "2"}\n',
    "utf-16": '{"id": "1", "name": "Zo\u00eb"}\r\n{"id": "2"}\r\n'.encode("utf-16"),
}


@pytest.mark.parametrize("shape", list(JSONL_SHAPES))
def test_jsonl_reader_gives_what_the_previous_reader_gave(tmp_path: Path, shape: str) -> None:
    path = tmp_path / "a.jsonl"
    path.write_bytes(JSONL_SHAPES[shape])
    _same(readers.parse_file(path, _source("jsonl")), _reference_read_jsonl(path))


def test_parquet_reader_gives_what_the_value_by_value_reader_gave(tmp_path: Path) -> None:
    path = tmp_path / "p.parquet"
    table = pa.table(
        {
            "id": pa.array([b"1", b"2", b"3", None, b"5"], pa.binary()),
            "email": pa.array(["a@x.com", "b@x.com", None, "d", "é"]),
            "score": pa.array([1.5, math.nan, math.inf, None, -math.inf]),
            "n": pa.array([1, 2, None, 4, 5], pa.int64()),
            "tags": pa.array([["p"], [], None, ["q", "r"], ["s"]]),
        }
    )
    pq.write_table(table, path)
    # Strings that are not UTF-8, as other writers leave them (Arrow itself would refuse).
    values = [b"a@x.com", b"\xff", b"\xed\xa0\x80"]
    offsets = pa.array([0, 7, 8, 11], pa.int32()).buffers()[1]
    invalid = pa.Array.from_buffers(pa.string(), 3, [None, offsets, pa.py_buffer(b"".join(values))])
    bad = pa.table({"id": ["1", "2", "3"], "email": invalid, "score": [math.nan, 1.0, 2.0]})
    pq.write_table(bad, tmp_path / "b.parquet")
    for file in (path, tmp_path / "b.parquet"):
        want = _reference_read_parquet(file)
        _same(readers.parse_file(file, _source("parquet")), want)
    assert len(readers.parse_file(tmp_path / "b.parquet", _source("parquet")).rejects) == 3


PAYLOADS: list[dict[str, str | None]] = [
    {"id": "1", "email": "a@x.com"},
    {"email": "é@x.com", "id": "2", "Note": 'say "hi"\n\ttab\\', "z": None},
    {"id": "3", "emoji": "🙂", "ctl": "\x00\x1f\x7f\x80\u2028", "cjk": "東京"},
    {},
    {"z": "last", "id": "4", "a": "", "Ab": "B", "é": "key not ASCII", 'b"q': "\\"},
    {"id": None, "email": None},
    {"email": "only one name"},
]


@pytest.mark.parametrize("row", PAYLOADS)
def test_payload_hash_is_the_hash_rows_landed_with_before(row: dict[str, str | None]) -> None:
    rows = RowsBuilder()
    rows.add(1, row)
    assert payload_hashes(rows.build([])).to_pylist() == [_reference_payload_hash(row)]
    assert readers.as_raw(row) == json.dumps(row, ensure_ascii=False, sort_keys=False)


def test_payload_hashes_of_rows_carrying_different_names_are_the_per_row_hashes() -> None:
    """Rows of one file, each with its own names (a null field is not a missing one)."""
    rows = RowsBuilder()
    for number, row in enumerate(PAYLOADS * 3, start=1):
        rows.add(number, row)
    built = rows.build([])
    assert built.rows == PAYLOADS * 3
    assert payload_hashes(built).to_pylist() == [_reference_payload_hash(r) for r in PAYLOADS * 3]
    assert rows_module.raws(built, range(built.count)) == [readers.as_raw(r) for r in PAYLOADS * 3]


def _random_csv(rng: random.Random) -> bytes:
    """A small CSV of random fields: plain, quoted (doubled quotes, line ends inside), and
    now and then a stray quote, a short or long row, a blank line, a CR line end."""
    pieces = ["a", "bc", "é", "東", " ", "x y", ""]
    rows = []
    for _ in range(rng.randint(0, 6)):
        fields = []
        for _ in range(3 + (rng.random() < 0.15) * rng.choice((-2, -1, 1))):
            value = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 3)))
            roll = rng.random()
            if roll < 0.3:
                inner = value + rng.choice(("", '""', "\n", ",", "\r\n", '"" ,'))
                value = f'"{inner}"'
            elif roll < 0.33:
                value = rng.choice(('"', '"x"y', 'x"', ' "q"', '"open'))
            fields.append(value)
        rows.append(",".join(fields))
        if rng.random() < 0.1:
            rows.append(rng.choice(("", "  ")))
    end = rng.choice(("\n", "\r\n", "\r"))
    text = end.join(["id,email,note", *rows]) + rng.choice((end, ""))
    return text.encode()


def test_arrow_csv_reading_is_the_csv_modules_on_random_files(tmp_path: Path) -> None:
    """Arrow reads a file only where it reads it as the csv module does; every other file
    goes to the csv module. Either way the rows, numbers, rejects and hashes are the same."""
    rng = random.Random(20261202)
    path = tmp_path / "r.csv"
    fast = 0
    for _ in range(300):
        path.write_bytes(_random_csv(rng))
        source = _source("csv")
        want = _reference_read_csv(path, source)
        _same(readers.parse_file(path, source), want)
        _same(readers.read_file(path, source), _reference_apply_contract(want, source))
        fast += readers._read_csv_arrow(path, source) is not None
    assert 50 < fast < 250  # both readers were exercised


@pytest.mark.parametrize("shape", ["clean", "short and long rows", "quotes inside unquoted fields"])
def test_plain_files_are_read_by_arrow(tmp_path: Path, shape: str) -> None:
    data, extra = CSV_SHAPES[shape]
    path = tmp_path / "c.csv"
    path.write_bytes(data)
    assert readers._read_csv_arrow(path, _source("csv", **extra)) is not None


@pytest.mark.parametrize(
    "shape",
    [
        "quote after a closed field",
        "unclosed quote keeps the rest",
        "undecodable bytes",
        "NUL byte",
        "oversized field",
        "a blank first line",
        "other quote and escape",
    ],
)
def test_odd_files_are_left_to_the_csv_module(tmp_path: Path, shape: str) -> None:
    data, extra = CSV_SHAPES[shape]
    path = tmp_path / "c.csv"
    path.write_bytes(data)
    assert readers._read_csv_arrow(path, _source("csv", **extra)) is None


def test_many_rows_are_hashed_by_duckdb_as_by_hashlib() -> None:
    texts = pa.array([json.dumps({"id": str(i), "n": "é" * (i % 3)}) for i in range(500)])
    want = [hashlib.sha256(t.encode()).hexdigest() for t in texts.to_pylist()]
    assert rows_module.sha256_hex(texts, duckdb_from=1).to_pylist() == want
    assert rows_module.sha256_hex(texts).to_pylist() == want
