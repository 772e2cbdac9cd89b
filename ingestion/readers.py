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
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from e360.config import CsvOptions, SourceConfig
from ingestion.rows import FileRows, Reject, RowsBuilder, as_raw, blank, from_columns, raws

__all__ = ["FileRows", "Reject", "as_raw", "parse_file", "read_file"]


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
    """Rows missing their key or a required column go to quarantine, the first named."""
    required = [source.key, *(c for c in source.required if c != source.key)]
    missing = [blank(parsed.column(c)) for c in required]
    bad = functools.reduce(pc.or_, missing) if parsed.count else pa.array([], pa.bool_())
    indices = pc.indices_nonzero(bad).to_pylist()
    rejects = list(parsed.rejects)
    if indices:
        numbers = parsed.numbers.take(pa.array(indices, pa.int64())).to_pylist()
        flags = [m.take(pa.array(indices, pa.int64())).to_pylist() for m in missing]
        texts = raws(parsed, indices)
        for at, (number, raw) in enumerate(zip(numbers, texts, strict=True)):
            names = [c for c, flag in zip(required, flags, strict=True) if flag[at]]
            what = "key column" if names[0] == source.key else "required column"
            reason = f"missing {what} '{names[0]}'"
            if len(names) > 1:
                reason += f" (also missing: {', '.join(names[1:])})"
            rejects.append(Reject(number, raw, reason))
    checked = parsed.filter(pc.invert(bad)) if indices else parsed
    checked.rejects = sorted_rejects(rejects)
    return checked


def sorted_rejects(rejects: list[Reject]) -> list[Reject]:
    """Rejects in row order, those of the whole file last."""
    return sorted(rejects, key=lambda r: (r.row is None, r.row or 0))


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
    """Arrow's CSV reader where it reads exactly as the `csv` module does, else the `csv`
    module (odd quoting, undecodable bytes, oversized fields, other dialects)."""
    fast = _read_csv_arrow(path, source)
    return fast if fast is not None else _read_csv_exact(path, source)


def _read_csv_exact(path: Path, source: SourceConfig) -> FileRows:
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
    width = len(header)
    quote, escape = reader.dialect.quotechar, reader.dialect.escapechar
    rows: list[list[str]] = []
    row_numbers: list[int] = []
    rejects = result.rejects
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
            rows.append(fields)
            row_numbers.append(number)
    values = [pa.array(column, pa.string()) for column in zip(*rows, strict=True)]
    if not rows:
        values = [pa.array([], pa.string()) for _ in header]
    parsed = from_columns(header, values, row_numbers)
    parsed.rejects = rejects
    return parsed


def _read_csv_arrow(path: Path, source: SourceConfig) -> FileRows | None:
    """The file read by Arrow's CSV reader, or None where that could read other than the
    `csv` module (strict, minimal quoting, doubled quotes) does.

    They read alike a UTF-8 text with no NUL byte, no field as long as the field size limit,
    and every quote that opens a field closing it (doubled quotes inside, the delimiter or
    a line end after): a quote elsewhere is data to both. Rows of another width than the
    header's are rejected by both; Arrow names them with their record number.
    """
    options = source.csv
    quote, delimiter = options.quote_char, options.delimiter
    if (
        quote is None
        or options.escape_char is not None
        or not options.double_quote
        or not (quote.isascii() and delimiter.isascii())
        or quote in "\r\n"
        or delimiter in "\r\n"
    ):
        return None
    data = _utf8_bytes(path, options.encoding)
    if data is None or not data or b"\x00" in data or data[:1] in (b"\r", b"\n"):
        return None
    if not _quotes_close(data, quote.encode(), delimiter.encode()):
        return None
    width = _header_width(data, source)
    if width is None:
        return None
    invalid: list[tuple[int, str, int]] = []

    def invalid_row(row: pa_csv.InvalidRow) -> str:
        invalid.append((row.number, row.text, row.actual_columns))
        return "skip"

    names = [f"f{i}" for i in range(width)]
    try:
        table = pa_csv.read_csv(
            pa.py_buffer(data),
            # One thread: Arrow numbers invalid rows only when it reads in order.
            read_options=pa_csv.ReadOptions(use_threads=False, column_names=names),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter,
                quote_char=quote,
                double_quote=True,
                newlines_in_values=True,
                ignore_empty_lines=True,
                invalid_row_handler=invalid_row,
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if table.num_rows == 0 or any(number < 2 for number, _, _ in invalid):
        return None
    limit = options.field_size_limit
    for column in table.columns:
        longest = pc.max(pc.utf8_length(column)).as_py()
        if longest is not None and longest >= limit:
            return None
        # The csv module, fed line by line, ends each line of a quoted value with "\n".
        if pc.any(pc.match_substring(column, "\r")).as_py():
            return None
    header = [h.strip() for h in table.slice(0, 1).to_pylist()[0].values()]
    problem = header_problem(header)
    if problem:
        return FileRows(rejects=[Reject(None, _csv_line(header, options), problem)])
    data_rows = table.slice(1)
    # Arrow counts the header as record 1; blank lines are no record to either reader.
    bad_numbers = [number - 1 for number, _, _ in invalid]
    total = data_rows.num_rows + len(invalid)
    every = pc.cumulative_sum(pa.repeat(pa.scalar(1, pa.int64()), total))
    good = every.filter(pc.invert(pc.is_in(every, pa.array(bad_numbers, pa.int64()))))
    parsed = from_columns(header, [c.combine_chunks() for c in data_rows.columns], good)
    parsed.rejects = [
        Reject(number - 1, text, f"row has {fields} fields, the header has {width}")
        for number, text, fields in invalid
    ]
    return parsed


def _utf8_bytes(path: Path, configured: str) -> bytes | None:
    """The file's text as UTF-8 bytes, no byte-order mark (None: not all decodable)."""
    raw = path.read_bytes()
    declared = bom_encoding(raw[:4])
    encoding = codecs.lookup(declared or configured).name
    try:
        if encoding in ("utf-8", "utf-8-sig"):
            if raw.startswith(codecs.BOM_UTF8):  # declared: the csv module's codec drops it
                raw = raw[len(codecs.BOM_UTF8) :]
            raw.decode("utf-8")  # strict: a row with bad bytes is the csv module's to reject
            return raw
        return raw.decode(encoding).encode("utf-8")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return None


def _quotes_close(data: bytes, quote: bytes, delimiter: bytes) -> bool:
    """Whether every quote that opens a field (at the start of the text or after a
    delimiter or a line end) is closed, doubled quotes aside, right before a delimiter, a
    line end or the end of the text: then no quoting is an error to the `csv` module."""
    if quote not in data:
        return True
    q, edge = re.escape(quote), re.escape(delimiter) + rb"\r\n"
    opening = rb"%s(?<![^%s]%s)" % (q, edge, q)
    opens = len(re.findall(opening, data))
    quoted = rb"%s[^%s]*+(?:%s%s[^%s]*+)*+%s(?![^%s])" % (opening, q, q, q, q, q, edge)
    return opens == len(re.findall(quoted, data))


def _header_width(data: bytes, source: SourceConfig) -> int | None:
    """The number of fields of the header, as the `csv` module reads it."""
    first = data[: data.find(b"\n") + 1 or len(data)].decode("utf-8")
    lines = io.StringIO(first, newline="").readlines()[:1]
    try:
        header = next(csv.reader(lines, strict=True, **csv_dialect(source.csv)), None)
    except csv.Error:
        return None
    return None if not header else len(header)


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
    result = RowsBuilder()
    rejects: list[Reject] = []
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
            rejects.append(Reject(number, text, reason))
    return result.build(rejects)


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
    try:
        # Text columns are read as bytes and checked by Arrow, so one invalid UTF-8 value
        # quarantines its row, not the file.
        schema = pq.read_schema(path)
        table = pq.read_table(path, schema=pa.schema([_as_bytes_field(f) for f in schema]))
    except (pa.ArrowException, OSError) as exc:
        return FileRows(rejects=[Reject(None, None, f"unreadable Parquet file: {exc}")])
    problem = header_problem(table.column_names)
    if problem:
        return FileRows(rejects=[Reject(None, ",".join(table.column_names), problem)])
    try:
        columns = [
            _text_values(table.column(i), schema.field(i).type) for i in range(table.num_columns)
        ]
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        return FileRows(rejects=[Reject(None, None, f"Parquet values not readable as text: {exc}")])
    names = table.column_names
    every = from_columns(names, [values for values, _ in columns], range(1, table.num_rows + 1))
    bad: dict[int, tuple[str, str]] = {}  # row index -> the first column it fails on, and why
    for name, (_, reasons) in zip(names, columns, strict=True):
        for index, reason in reasons.items():
            bad.setdefault(index, (name, reason))
    if not bad:
        return every
    indices = sorted(bad)
    rejects = [
        Reject(index + 1, raw, f"column '{bad[index][0]}': {bad[index][1]}")
        for index, raw in zip(indices, raws(every, indices), strict=True)
    ]
    kept = every.filter(pc.invert(pc.is_in(pa.array(range(every.count)), pa.array(indices))))
    kept.rejects = rejects
    return kept


def _as_bytes_field(f: pa.Field) -> pa.Field:
    if pa.types.is_string(f.type):
        return f.with_type(pa.binary())
    if pa.types.is_large_string(f.type):
        return f.with_type(pa.large_binary())
    return f


Texts = tuple[pa.Array, dict[int, str]]


def _text_values(column: pa.ChunkedArray, written: pa.DataType) -> Texts:
    """The column's values as text, and by row index the reason of each that cannot be one."""
    kind = column.type
    if pa.types.is_string(written) or pa.types.is_large_string(written):
        try:
            # Arrow checks the whole column is UTF-8 at once; only a column that is not is
            # decoded value by value, to name its bad rows.
            return _string_array(column.cast(written)), {}
        except (pa.ArrowInvalid, UnicodeDecodeError):
            cells = [_decoded(v) for v in column.to_pylist()]
            reasons = {i: c.reason for i, c in enumerate(cells) if c.reason}
            return pa.array([c.text for c in cells], pa.string()), reasons
    if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
        # Bytes meant as bytes: hex, as stream payloads keep them.
        hexed = [None if v is None else v.hex() for v in column.to_pylist()]
        return pa.array(hexed, pa.string()), {}
    if pa.types.is_nested(kind):
        return pa.array([_json_text(v) for v in column.to_pylist()], pa.string()), {}
    texts = _string_array(column.cast(pa.string()))
    if not pa.types.is_floating(kind):
        return texts, {}
    not_finite = pc.invert(pc.fill_null(pc.is_finite(column), True))
    indices = pc.indices_nonzero(pc.fill_null(not_finite, False)).to_pylist()
    values = column.take(pa.array(indices, pa.int64())).to_pylist()
    reasons = {i: r for i, v in zip(indices, values, strict=True) if (r := _not_finite(v))}
    return texts, reasons


def _string_array(column: pa.ChunkedArray) -> pa.Array:
    return column.combine_chunks().cast(pa.string())


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
