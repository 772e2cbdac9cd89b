"""A landing file's rows as Arrow string columns, and what ingestion computes over them.

Every reader hands back a `FileRows`; the contract, the duplicate-key quarantine, payload
hashes and the raw table then work on whole columns (pyarrow.compute, DuckDB), never on a
Python object per row. Only rejects, a file's few bad rows, are Python objects.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii

import duckdb
import pyarrow as pa
import pyarrow.compute as pc


@dataclass(frozen=True)
class Reject:
    row: int | None  # 1-based data row (None when the whole file is unreadable)
    raw: str | None
    reason: str


Shape = tuple[str, ...]


def _empty_numbers() -> pa.Array:
    return pa.array([], pa.int64())


@dataclass
class FileRows:
    """One landing file, split into parsed rows and rejects.

    `table` holds the parsed rows, one string column per name in `columns` (in that order),
    and `numbers` their 1-based data rows. A JSON Lines record names only the fields it
    carries, and a field it does not carry is not a null one (payload hashes and raw text
    tell them apart): there `shapes` lists each distinct set of names, in the record's order,
    and `shape` indexes it per row. `shapes` None: every row carries every column, in order.
    """

    columns: list[str] = field(default_factory=list)
    table: pa.Table | None = None
    numbers: pa.Array = field(default_factory=_empty_numbers)
    rejects: list[Reject] = field(default_factory=list)
    shapes: list[Shape] | None = None
    shape: pa.Array | None = None

    def __post_init__(self) -> None:
        if self.table is None:
            self.table = pa.table({c: pa.array([], pa.string()) for c in self.columns})

    @property
    def count(self) -> int:
        """Parsed rows."""
        return len(self.numbers)  # a table of no columns counts no rows

    @property
    def rows_in(self) -> int:
        return self.count + len(self.rejects)

    @property
    def row_numbers(self) -> list[int]:
        return self.numbers.to_pylist()

    @property
    def rows(self) -> list[dict[str, str | None]]:
        """The parsed rows as dicts, each with the names it carries (for callers that look
        at a few files' rows one by one: resolving a mapping, profiling, checks)."""
        return self.dicts(range(self.count))

    def dicts(self, indices: Iterable[int]) -> list[dict[str, str | None]]:
        """The rows at these indices as dicts, each with the names it carries, in its order."""
        assert self.table is not None
        picked = list(indices)
        if not self.table.column_names:
            values: list[dict[str, str | None]] = [{} for _ in picked]
        else:
            values = self.table.take(pa.array(picked, pa.int64())).to_pylist()
        if self.shapes is None:
            return values
        assert self.shape is not None
        shapes = self.shape.take(pa.array(picked, pa.int64())).to_pylist()
        return [
            {name: row[name] for name in self.shapes[s]}
            for row, s in zip(values, shapes, strict=True)
        ]

    def present(self, column: str) -> pa.Array | None:
        """Per row, whether it carries `column` (None: every row does)."""
        if self.shapes is None:
            return None
        assert self.shape is not None
        having = [i for i, names in enumerate(self.shapes) if column in names]
        return pc.is_in(self.shape, value_set=pa.array(having, self.shape.type))

    def column(self, name: str) -> pa.Array:
        """The column's values (all null when no row has it)."""
        assert self.table is not None
        if name not in self.table.column_names:
            return pa.nulls(self.count, pa.string())
        return self.table.column(name).combine_chunks()

    def filter(self, keep: pa.Array) -> FileRows:
        """The rows where `keep` is true, rejects as they are."""
        assert self.table is not None
        return FileRows(
            columns=self.columns,
            table=self.table.filter(keep),
            numbers=self.numbers.filter(keep),
            rejects=self.rejects,
            shapes=self.shapes,
            shape=None if self.shape is None else self.shape.filter(keep),
        )

    def renamed(self, rename: dict[str, str]) -> FileRows:
        """The same rows with columns renamed."""
        assert self.table is not None
        shapes = None
        if self.shapes is not None:
            shapes = [tuple(rename.get(n, n) for n in names) for names in self.shapes]
        return FileRows(
            columns=[rename.get(c, c) for c in self.columns],
            table=self.table.rename_columns([rename.get(c, c) for c in self.table.column_names]),
            numbers=self.numbers,
            rejects=self.rejects,
            shapes=shapes,
            shape=self.shape,
        )


def from_columns(
    columns: Sequence[str], values: Sequence[pa.Array], numbers: Sequence[int] | pa.Array
) -> FileRows:
    """Rows that carry every column, from one array of text per column."""
    table = pa.table(dict(zip(columns, values, strict=True)))
    return FileRows(columns=list(columns), table=table, numbers=pa.array(numbers, pa.int64()))


class RowsBuilder:
    """Collects rows given as dicts, names differing only in case from a known column taken
    as that column, then builds the columns at once."""

    def __init__(self, columns: Sequence[str] = ()) -> None:
        self.columns = list(columns)
        self._known: dict[str, str] = {name.casefold(): name for name in columns}
        self._exact = set(self._known.values())  # names as spelt, each its fold's spelling
        self._rows: list[dict[str, str | None]] = []
        self._numbers: list[int] = []
        self._shape_ids: dict[Shape, int] = {}
        self._shape: list[int] = []
        self._last: Shape | None = None
        self._last_id = 0

    def add(self, row_number: int, values: dict[str, str | None]) -> None:
        if not values.keys() <= self._exact:
            if any(self._known.get(name.casefold(), name) != name for name in values):
                values = {self._known.get(name.casefold(), name): v for name, v in values.items()}
            for name in values:
                if name.casefold() not in self._known:
                    self._known[name.casefold()] = name
                    self._exact.add(name)
                    self.columns.append(name)
        self._rows.append(values)
        self._numbers.append(row_number)
        names = tuple(values)
        if names != self._last:  # records of a file mostly carry the same names in turn
            self._last = names
            self._last_id = self._shape_ids.setdefault(names, len(self._shape_ids))
        self._shape.append(self._last_id)

    def build(self, rejects: list[Reject]) -> FileRows:
        # A list per column: Arrow's conversion of dicts to a struct array is far slower.
        values = [
            pa.array([row.get(name) for row in self._rows], pa.string()) for name in self.columns
        ]
        rows = from_columns(self.columns, values, self._numbers)
        shapes = list(self._shape_ids)
        if shapes and shapes != [tuple(self.columns)]:
            rows.shapes = shapes
            rows.shape = pa.array(self._shape, pa.int32())
        rows.rejects = rejects
        return rows


# What `str.strip()` strips: keys and required values are compared as Python compares them.
_WHITESPACE = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())


_SPACE_CLASS = "[" + "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE) + "]"


def stripped(values: pa.Array) -> pa.Array:
    """`(value or "").strip()` of every value."""
    values = pc.fill_null(values, "")
    padded = pc.match_substring_regex(values, f"^{_SPACE_CLASS}|{_SPACE_CLASS}$")
    if not pc.any(padded).as_py():  # the usual column: nothing to strip
        return values
    return pc.utf8_trim(values, characters=_WHITESPACE)


def blank(values: pa.Array) -> pa.Array:
    """Per value, whether it is null or only whitespace."""
    other = pc.match_substring_regex(values, "[^" + _SPACE_CLASS[1:])
    return pc.invert(pc.fill_null(other, False))


# One encoder for every row: `json.dumps` with options builds a new one per call.
_RAW_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=False)


def as_raw(values: dict[str, str | None]) -> str:
    return _RAW_JSON.encode(values)


def raws(rows: FileRows, indices: Sequence[int]) -> list[str]:
    """`as_raw` of the rows at these indices (rejects: a few rows of a file)."""
    return [as_raw(values) for values in rows.dicts(indices)]


# Every character `json.dumps` (ensure_ascii) writes other than as itself.
_ESCAPED_ASCII = r"[^\x20-\x21\x23-\x5b\x5d-\x7e]"


def _json_strings(values: pa.Array) -> pa.Array:
    """Each value as `json.dumps` writes it (ensure_ascii), a null as `null`."""
    escaped = pc.fill_null(pc.match_substring_regex(values, _ESCAPED_ASCII), False)
    quoted = pc.binary_join_element_wise('"', values, '"', "")
    if pc.any(escaped).as_py():
        # Non-ASCII or control characters: few values, the json module's own C escaper.
        texts = pc.filter(values, escaped).to_pylist()
        quoted = pc.replace_with_mask(
            quoted, escaped, pa.array([encode_basestring_ascii(t) for t in texts], pa.string())
        )
    return pc.fill_null(quoted, "null")


def payload_texts(rows: FileRows) -> pa.Array:
    """Per row, `json.dumps(row, sort_keys=True)` of the names it carries."""
    pieces = []
    for name in sorted(rows.columns):
        piece = pc.binary_join_element_wise(
            f", {encode_basestring_ascii(name)}: ", _json_strings(rows.column(name)), ""
        )
        present = rows.present(name)
        pieces.append(piece if present is None else pc.if_else(present, piece, ""))
    if not pieces:
        return pa.array(["{}"] * rows.count, pa.string())
    body = pc.binary_join_element_wise(*pieces, "")
    return pc.binary_join_element_wise("{", pc.utf8_slice_codeunits(body, 2), "}", "")


def payload_hashes(rows: FileRows) -> pa.Array:
    """Per row, the SHA-256 (hex) of `json.dumps(row, sort_keys=True)`: a row's identity
    across runs, so it must stay the text rows landed with before."""
    return sha256_hex(payload_texts(rows))


# Below this many rows DuckDB's start-up costs more than hashing in a loop.
DUCKDB_HASH_ROWS = 200_000


def sha256_hex(texts: pa.Array, duckdb_from: int = DUCKDB_HASH_ROWS) -> pa.Array:
    """The SHA-256 of each text's UTF-8 bytes, hex: DuckDB's vectorised sha256 over many
    rows (on every core), hashlib over a few."""
    if len(texts) < duckdb_from:
        return pa.array(
            [hashlib.sha256(t.encode()).hexdigest() for t in texts.to_pylist()], pa.string()
        )
    with duckdb.connect() as con:
        con.register("texts", pa.table({"t": texts}))
        result = con.sql("SELECT sha256(t) AS h FROM texts").to_arrow_table()
    return result.column("h").combine_chunks().cast(pa.string())
