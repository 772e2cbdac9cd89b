"""Readers for landing files: every data row comes back either parsed or rejected with a reason.

Payload values are kept as received, as text: the raw zone is a faithful copy, and typing is
the standardisation stage's job. A row is never dropped here: `in = parsed + rejected`.
"""

from __future__ import annotations

import codecs
import csv
import functools
import gzip
import io
import json
import math
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from e360.config import CsvOptions, SourceConfig


@dataclass(frozen=True)
class Reject:
    row: int | None  # 1-based data row (None when the whole file is unreadable)
    raw: str | None
    reason: str


@dataclass
class FileRows:
    """One landing file, split into parsed rows and rejects."""

    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str | None]] = field(default_factory=list)
    row_numbers: list[int] = field(default_factory=list)
    rejects: list[Reject] = field(default_factory=list)

    @property
    def rows_in(self) -> int:
        return len(self.rows) + len(self.rejects)

    def add(self, row_number: int, values: dict[str, str | None]) -> None:
        """Add a parsed row; a name differing only in case from a known column is that column."""
        if values.keys() <= self._exact:  # the common case, checked in C: every name known
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
        self._exact = set(self._known.values())  # names as spelt, each its fold's spelling


def read_file(path: Path, source: SourceConfig) -> FileRows:
    """Parse a landing file of the source's format, then apply the source's contract.

    A gzip-compressed file (known by its magic bytes, whatever its name) is read through.
    """
    return _apply_contract(parse_file(path, source), source)


def parse_file(path: Path, source: SourceConfig) -> FileRows:
    """Parse a landing file of the source's format, no key or required column checked (what
    `e360 init` profiles before there is a key)."""
    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}
    if source.format not in readers:
        raise ValueError(f"{source.format} sources are not read from files")
    with _decompressed(path) as plain:
        if isinstance(plain, FileRows):
            return plain
        return readers[source.format](plain, source)


GZIP_MAGIC = b"\x1f\x8b"


@contextmanager
def _decompressed(path: Path) -> Iterator[Path | FileRows]:
    with path.open("rb") as f:
        compressed = f.read(2) == GZIP_MAGIC
    if not compressed:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="e360-gunzip-") as folder:
        plain = Path(folder) / path.name.removesuffix(".gz")
        try:
            with gzip.open(path, "rb") as src, plain.open("wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
        except (OSError, EOFError, zlib.error) as exc:
            # A truncated or corrupt archive: nothing of it can be trusted, all to quarantine.
            yield FileRows(rejects=[Reject(None, None, f"unreadable gzip file: {exc}")])
            return
        yield plain


def _apply_contract(parsed: FileRows, source: SourceConfig) -> FileRows:
    checked = FileRows(columns=parsed.columns, rejects=list(parsed.rejects))
    required = [source.key, *(c for c in source.required if c != source.key)]
    for number, values in zip(parsed.row_numbers, parsed.rows, strict=True):
        missing = [c for c in required if _blank(values.get(c))]
        if missing:
            what = "key column" if missing[0] == source.key else "required column"
            reason = f"missing {what} '{missing[0]}'"
            if len(missing) > 1:
                reason += f" (also missing: {', '.join(missing[1:])})"
            checked.rejects.append(Reject(number, as_raw(values), reason))
        else:
            checked.add(number, values)
    checked.rejects.sort(key=lambda r: (r.row is None, r.row or 0))
    return checked


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


# One encoder for every row: `json.dumps` with options builds a new one per call.
_RAW_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=False)


def as_raw(values: dict[str, str | None]) -> str:
    return _RAW_JSON.encode(values)


# Byte-order marks, longest first: FF FE 00 00 is UTF-32 LE, not UTF-16 LE and a NUL.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def bom_encoding(head: bytes) -> str | None:
    """The encoding a file's byte-order mark declares (the codec then drops the mark)."""
    return next((encoding for bom, encoding in _BOMS if head.startswith(bom)), None)


def _file_encoding(path: Path, configured: str) -> str:
    with path.open("rb") as f:
        return bom_encoding(f.read(4)) or configured


def _close_quote(taken: list[str], feed: Iterator[str], quote: str, escape: str | None) -> int:
    """Take lines from `feed` until no quoted field is open: a broken record ends where its
    quote does. A quote after the escape character is data, not the end of a field. Returns
    the count of lines taken."""

    def quotes(line: str) -> int:
        if escape:
            line = line.replace(escape + escape, "").replace(escape + quote, "")
        return line.count(quote)

    if not sum(quotes(line) for line in taken) % 2:
        return 0
    count = 0
    for line in feed:
        taken.append(line)
        count += 1
        if quotes(line) % 2:
            break
    return count


def _record(lines: list[str]) -> str:
    return "".join(lines).rstrip("\r\n")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _read_csv(path: Path, source: SourceConfig) -> FileRows:
    result = FileRows()
    encoding = _file_encoding(path, source.csv.encoding)
    # surrogateescape keeps undecodable bytes so the row can be quarantined instead of
    # failing the whole file.
    try:
        text = path.read_text(encoding=encoding, errors="surrogateescape")
    except UnicodeDecodeError as exc:  # bytes no escape can keep: a UTF-16/32 file cut short
        return FileRows(rejects=[Reject(None, None, f"unreadable {encoding} file: {exc}")])
    # A free-text column can hold more than the csv module's default 128 KiB; a field above
    # the source's limit is one bad row, not the end of the file.
    csv.field_size_limit(source.csv.field_size_limit)
    # The lines exactly as the csv module would read them from the text (split in C, not
    # line by line in Python): a record's lines are then at hand when it goes to quarantine,
    # located by the reader's own count of the lines it took.
    lines = io.StringIO(text, newline="").readlines()
    # One scan of the whole text instead of one per field: most files have no bad bytes.
    undecodable = _SURROGATE.search(text) is not None
    feed = iter(lines)
    reader = csv.reader(feed, strict=True, **csv_dialect(source.csv))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        result.rejects.append(
            Reject(None, _printable(text[:2000]), f"unreadable CSV header: {exc}")
        )
        return result
    del text
    if header is None:
        return result
    header = [h.strip() for h in header]
    problem = header_problem(header)
    if problem:
        # Without usable column names no row can be read; the file stays in the landing area.
        result.rejects.append(Reject(None, _csv_line(header, source.csv), problem))
        return result
    result.set_columns(header)
    width = len(header)
    quote, escape = reader.dialect.quotechar, reader.dialect.escapechar
    rows, row_numbers, rejects = result.rows, result.row_numbers, result.rejects
    number = 0
    taken_apart = 0  # lines taken past the reader, closing a broken record's quote
    while True:
        start = reader.line_num + taken_apart  # lines before this record
        try:
            fields = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # Malformed quoting or an oversized field: the record's lines, verbatim, go to
            # quarantine and reading goes on at the next line (an unclosed quote keeps the rest).
            number += 1
            taken = lines[start : reader.line_num + taken_apart]
            if quote is not None:
                taken_apart += _close_quote(taken, feed, quote, escape)
            reason = f"CSV error at line {start + 1}: {exc}"
            rejects.append(Reject(number, _printable(_record(taken)), reason))
            continue
        if not fields:
            continue  # a blank line is not a record
        number += 1
        if undecodable and any(_SURROGATE.search(value) for value in fields):
            raw = _record(lines[start : reader.line_num + taken_apart])
            rejects.append(Reject(number, _printable(raw), f"bytes not valid {encoding}"))
        elif len(fields) != width:
            raw = _record(lines[start : reader.line_num + taken_apart])
            reason = f"row has {len(fields)} fields, the header has {width}"
            rejects.append(Reject(number, raw, reason))
        else:
            rows.append(dict(zip(header, fields, strict=True)))
            row_numbers.append(number)
    return result


def csv_dialect(options: CsvOptions) -> dict[str, Any]:
    """The `csv` module's reader arguments for a source's CSV options."""
    return {
        "delimiter": options.delimiter,
        "quotechar": options.quote_char,
        "quoting": csv.QUOTE_MINIMAL if options.quote_char is not None else csv.QUOTE_NONE,
        "doublequote": options.double_quote,
        "escapechar": options.escape_char,
    }


def header_problem(names: list[str]) -> str | None:
    """Why these column names cannot name a raw table's columns, if they cannot."""
    blank = [i + 1 for i, name in enumerate(names) if not name.strip()]
    if blank:
        return f"column {blank[0]} of the header has no name"
    seen: dict[str, str] = {}
    for name in names:
        if name in seen.values():
            return f"column '{name}' appears twice in the header"
        if name.casefold() in seen:
            # Column names are compared without case downstream (DuckDB, SQL engines).
            return f"columns '{seen[name.casefold()]}' and '{name}' differ only in case"
        seen[name.casefold()] = name
    return None


def _csv_line(fields: list[str], options: CsvOptions) -> str:
    buffer = io.StringIO()
    try:
        csv.writer(buffer, lineterminator="", **csv_dialect(options)).writerow(fields)
    except csv.Error:  # a quote the options give no way to write: shown as read
        return options.delimiter.join(fields)
    return buffer.getvalue()


def _has_surrogates(value: str) -> bool:
    # Lone surrogates: undecodable bytes (surrogateescape) or a JSON "\\ud800" escape.
    return _SURROGATE.search(value) is not None


def _printable(value: str) -> str:
    return value.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


# Deeper than any record a source means to send; json.loads itself stops near 1,000 levels.
MAX_JSON_DEPTH = 64


def _read_jsonl(path: Path, source: SourceConfig) -> FileRows:
    result = FileRows()
    try:
        lines = list(_jsonl_lines(path)) if _wide_encoding(path) else _jsonl_lines(path)
    except UnicodeDecodeError as exc:  # bytes no escape can keep: a UTF-16/32 file cut short
        return FileRows(rejects=[Reject(None, None, f"unreadable {exc.encoding} file: {exc}")])
    for number, line in enumerate(lines, start=1):
        obj, reason = _json_object(line)
        values = (
            {}
            if obj is None
            else {k: v if type(v) is str else _json_text(v) for k, v in obj.items()}
        )
        # A lone surrogate can only come from a \u escape: the line itself is valid UTF-8.
        reason = reason or _fields_problem(values, escapes=b"\\u" in line)
        if reason is None:
            result.add(number, values)
        else:
            text = _printable(line.decode("utf-8", errors="surrogateescape")).rstrip("\r\n")
            result.rejects.append(Reject(number, text, reason))
    return result


def _wide_encoding(path: Path) -> bool:
    with path.open("rb") as f:
        return bom_encoding(f.read(4)) in ("utf-16", "utf-32")


def _jsonl_lines(path: Path) -> Iterator[bytes]:
    """The file's non-blank lines as UTF-8 bytes (a UTF-16/32 file, known by its BOM, recoded)."""
    with path.open("rb") as f:
        encoding = bom_encoding(f.read(4))
        f.seek(0)
        if encoding in ("utf-16", "utf-32"):
            text = f.read().decode(encoding, errors="surrogateescape")
            lines: Iterator[bytes] = (
                line.encode("utf-8", errors="surrogateescape")
                for line in io.StringIO(text, newline="")
            )
        else:
            lines = iter(f)
        for i, line in enumerate(lines):
            if i == 0 and line.startswith(codecs.BOM_UTF8):
                line = line[len(codecs.BOM_UTF8) :]
            if line.strip():
                yield line


def _json_object(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    """A JSON object from one line, or why the line is not one (no payload can raise here)."""
    try:
        # Strict UTF-8 (RFC 8259): json.loads on bytes would guess UTF-16/32 from the bytes.
        text = line.decode("utf-8")
        if text.startswith("\ufeff"):  # what json.loads refuses before decoding
            raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
        obj = _JSON_DECODER.decode(text)
    except UnicodeDecodeError:
        return None, "bytes not valid utf-8"
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    except RecursionError:
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    except ValueError as exc:  # NaN/Infinity, an integer of more than 4,300 digits
        return None, f"invalid JSON: {exc}"
    if not isinstance(obj, dict):
        return None, f"expected a JSON object, got {type(obj).__name__}"
    # One bracket is the object's own: without another, nothing in it is nested.
    nested = text.count("{") + text.count("[") > 1
    if nested and _depth(obj) > MAX_JSON_DEPTH:
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    return obj, None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# What `json.loads(text, parse_constant=...)` builds per call, built once.
_JSON_DECODER = json.JSONDecoder(parse_constant=_no_constant)


def _depth(value: Any) -> int:
    """Nesting depth of a decoded JSON value, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
    return deepest


def _fields_problem(values: dict[str, str | None], escapes: bool = True) -> str | None:
    names = _names_problem(tuple(values))
    if names is not None and names[0]:
        return names[1]
    if escapes and any(_has_surrogates(k) or _has_surrogates(v or "") for k, v in values.items()):
        return "invalid unicode escape (a lone surrogate)"
    return None if names is None else names[1]


@functools.lru_cache(maxsize=4096)
def _names_problem(names: tuple[str, ...]) -> tuple[bool, str] | None:
    """What is wrong with a record's field names, and whether it outranks a lone surrogate
    (records of one file mostly share their names, so each set is checked once)."""
    if any(not key.strip() for key in names):
        return True, "a field has an empty name"
    folded: dict[str, str] = {}
    for key in names:
        if key.casefold() in folded:
            return False, f"fields '{folded[key.casefold()]}' and '{key}' differ only in case"
        folded[key.casefold()] = key
    return None


def _json_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _read_parquet(path: Path, source: SourceConfig) -> FileRows:
    result = FileRows()
    try:
        # Text columns are read as bytes and checked by Arrow, so one invalid UTF-8 value
        # quarantines its row, not the file.
        schema = pq.read_schema(path)
        table = pq.read_table(path, schema=pa.schema([_as_bytes_field(f) for f in schema]))
    except (pa.ArrowException, OSError) as exc:
        result.rejects.append(Reject(None, None, f"unreadable Parquet file: {exc}"))
        return result
    problem = header_problem(table.column_names)
    if problem:
        result.rejects.append(Reject(None, ",".join(table.column_names), problem))
        return result
    try:
        columns = [
            _text_values(table.column(i), schema.field(i).type) for i in range(table.num_columns)
        ]
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        result.rejects.append(Reject(None, None, f"Parquet values not readable as text: {exc}"))
        return result
    names = table.column_names
    result.set_columns(names)
    bad: dict[int, tuple[str, str]] = {}  # row index -> the first column it fails on, and why
    for name, (_, reasons) in zip(names, columns, strict=True):
        for index, reason in reasons.items():
            bad.setdefault(index, (name, reason))
    texts = [values for values, _ in columns]
    for index, cells in enumerate(zip(*texts, strict=True)):
        values = dict(zip(names, cells, strict=True))
        if index in bad:
            name, reason = bad[index]
            result.rejects.append(Reject(index + 1, as_raw(values), f"column '{name}': {reason}"))
        else:
            result.rows.append(values)
            result.row_numbers.append(index + 1)
    return result


def _as_bytes_field(f: pa.Field) -> pa.Field:
    if pa.types.is_string(f.type):
        return f.with_type(pa.binary())
    if pa.types.is_large_string(f.type):
        return f.with_type(pa.large_binary())
    return f


Texts = tuple[list[str | None], dict[int, str]]


def _text_values(column: pa.ChunkedArray, written: pa.DataType) -> Texts:
    """The column's values as text, and by row index the reason of each that cannot be one."""
    kind = column.type
    if pa.types.is_string(written) or pa.types.is_large_string(written):
        try:
            # Arrow checks the whole column is UTF-8 at once; only a column that is not is
            # decoded value by value, to name its bad rows.
            return column.cast(written).to_pylist(), {}
        except (pa.ArrowInvalid, UnicodeDecodeError):
            cells = [_decoded(v) for v in column.to_pylist()]
            return [c.text for c in cells], {i: c.reason for i, c in enumerate(cells) if c.reason}
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        # Bytes meant as bytes: hex, as stream payloads keep them.
        return [None if v is None else v.hex() for v in column.to_pylist()], {}
    if pa.types.is_nested(kind):
        return [_json_text(v) for v in column.to_pylist()], {}
    texts = column.cast(pa.string()).to_pylist()
    if not pa.types.is_floating(kind):
        return texts, {}
    values = column.to_pylist()
    return texts, {i: r for i, v in enumerate(values) if (r := _not_finite(v)) is not None}


@dataclass(frozen=True)
class _Cell:
    text: str | None
    reason: str | None = None


def _decoded(value: bytes | None) -> _Cell:
    if value is None:
        return _Cell(None)
    try:
        return _Cell(value.decode("utf-8"))
    except UnicodeDecodeError:
        return _Cell(value.decode("utf-8", errors="replace"), "bytes not valid utf-8")


def _not_finite(value: float | None) -> str | None:
    if value is None or math.isfinite(value):
        return None
    return f"{value} is not a number value" if math.isnan(value) else f"{value} is not finite"
