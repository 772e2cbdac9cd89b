"""Readers for landing files: every data row comes back either parsed or rejected with a reason.

Payload values are kept as received, as text: the raw zone is a faithful copy, and typing is
the standardisation stage's job. A row is never dropped here: `in = parsed + rejected`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
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

from e360.config import SourceConfig


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
        for name in values:
            if name not in self._known:
                self._known.add(name)
                self.columns.append(name)
        self.rows.append(values)
        self.row_numbers.append(row_number)

    def __post_init__(self) -> None:
        self._known: set[str] = set(self.columns)

    def set_columns(self, columns: list[str]) -> None:
        self.columns = list(columns)
        self._known = set(columns)


def read_file(path: Path, source: SourceConfig) -> FileRows:
    """Parse a landing file of the source's format, then apply the source's contract.

    A gzip-compressed file (known by its magic bytes, whatever its name) is read through.
    """
    readers = {"csv": _read_csv, "jsonl": _read_jsonl, "parquet": _read_parquet}
    if source.format not in readers:
        raise ValueError(f"{source.format} sources are not read from files")
    with _decompressed(path) as plain:
        if isinstance(plain, FileRows):
            return plain
        parsed = readers[source.format](plain, source)
    return _apply_contract(parsed, source)


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
            checked.rejects.append(Reject(number, _as_raw(values), reason))
        else:
            checked.add(number, values)
    checked.rejects.sort(key=lambda r: (r.row is None, r.row or 0))
    return checked


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _as_raw(values: dict[str, str | None]) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=False)


# A free-text column can hold more than the csv module's default 128 KiB.
csv.field_size_limit(64 * 1024 * 1024)


def _read_csv(path: Path, source: SourceConfig) -> FileRows:
    result = FileRows()
    # surrogateescape keeps undecodable bytes so the row can be quarantined instead of
    # failing the whole file.
    text = path.read_text(encoding=source.csv.encoding, errors="surrogateescape")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=source.csv.delimiter, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        result.rejects.append(
            Reject(None, _printable(text[:2000]), f"unreadable CSV header: {exc}")
        )
        return result
    if header is None:
        return result
    header = [h.strip() for h in header]
    problem = header_problem(header)
    if problem:
        # Without usable column names no row can be read; the file stays in the landing area.
        result.rejects.append(Reject(None, _csv_line(header, source.csv.delimiter), problem))
        return result
    result.set_columns(header)
    number = 0
    try:
        for fields in reader:
            if not fields:
                continue  # a blank line is not a record
            number += 1
            raw = _csv_line(fields, source.csv.delimiter)
            if any(_has_surrogates(value) for value in fields):
                reason = f"bytes not valid {source.csv.encoding}"
                result.rejects.append(Reject(number, _printable(raw), reason))
            elif len(fields) != len(header):
                reason = f"row has {len(fields)} fields, the header has {len(header)}"
                result.rejects.append(Reject(number, raw, reason))
            else:
                result.rows.append(dict(zip(header, fields, strict=True)))
                result.row_numbers.append(number)
    except csv.Error as exc:
        # Malformed quoting: keep everything from the failing line on, verbatim, with the reason.
        rest = "\n".join(text.splitlines()[reader.line_num - 1 :])
        reason = f"CSV error at line {reader.line_num}: {exc}; the rest of the file is kept here"
        result.rejects.append(Reject(number + 1, _printable(rest), reason))
    return result


def header_problem(names: list[str]) -> str | None:
    """Why these column names cannot name a raw table's columns, if they cannot."""
    blank = [i + 1 for i, name in enumerate(names) if not name.strip()]
    if blank:
        return f"column {blank[0]} of the header has no name"
    seen: set[str] = set()
    for name in names:
        if name in seen:
            return f"column '{name}' appears twice in the header"
        seen.add(name)
    return None


def _csv_line(fields: list[str], delimiter: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="").writerow(fields)
    return buffer.getvalue()


def _has_surrogates(value: str) -> bool:
    # Lone surrogates: undecodable bytes (surrogateescape) or a JSON "\\ud800" escape.
    return any("\ud800" <= ch <= "\udfff" for ch in value)


def _printable(value: str) -> str:
    return value.encode("utf-8", errors="surrogateescape").decode("utf-8", errors="replace")


def _read_jsonl(path: Path, source: SourceConfig) -> FileRows:
    result = FileRows()
    with path.open("rb") as f:
        number = 0
        for line in f:
            if not line.strip():
                continue
            number += 1
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                result.rejects.append(
                    Reject(number, text, f"invalid JSON: {exc.msg} at column {exc.colno}")
                )
                continue
            except UnicodeDecodeError:
                result.rejects.append(Reject(number, text, "bytes not valid utf-8"))
                continue
            if not isinstance(obj, dict):
                result.rejects.append(
                    Reject(number, text, f"expected a JSON object, got {type(obj).__name__}")
                )
                continue
            values = {str(k): _json_text(v) for k, v in obj.items()}
            if any(not key.strip() for key in values):
                result.rejects.append(Reject(number, text, "a field has an empty name"))
            elif any(_has_surrogates(k) or _has_surrogates(v or "") for k, v in values.items()):
                result.rejects.append(
                    Reject(number, text, "invalid unicode escape (a lone surrogate)")
                )
            else:
                result.add(number, values)
    return result


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
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        result.rejects.append(Reject(None, None, f"unreadable Parquet file: {exc}"))
        return result
    problem = header_problem(table.column_names)
    if problem:
        result.rejects.append(Reject(None, ",".join(table.column_names), problem))
        return result
    try:
        columns = [_as_text_column(table.column(i)) for i in range(table.num_columns)]
    except (pa.ArrowException, UnicodeDecodeError) as exc:
        result.rejects.append(Reject(None, None, f"Parquet values not readable as text: {exc}"))
        return result
    text = pa.table(columns, names=table.column_names)
    result.set_columns(table.column_names)
    result.rows = text.to_pylist()
    result.row_numbers = list(range(1, len(result.rows) + 1))
    return result


def _as_text_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return column.cast(pa.string())
    if pa.types.is_nested(column.type):
        return pa.chunked_array(
            [pa.array([_json_text(v) for v in column.to_pylist()], pa.string())]
        )
    return column.cast(pa.string())
