"""Source contracts: a JSON Schema or an Avro schema kept in the repository, per source.

A contract decides three things for the raw zone:
- whether a record is acceptable (anything else goes to quarantine with the reason);
- the Iceberg type of each declared field (undeclared fields are typed by their value);
- the documentation of the raw table: its description, column comments and which columns hold
  personal data (`"x-pii": true` on a JSON Schema property, `"pii": true` on an Avro field).
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import fastavro
import jsonschema
import pyarrow as pa
from fastavro.types import Schema as AvroSchema

from e360.errors import IngestError

# Iceberg cannot widen anything else (long -> double, numbers -> string are type changes).
WIDENINGS = {(pa.int32(), pa.int64()), (pa.float32(), pa.float64())}
_JSON_TYPES = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
}
_AVRO_TYPES = {
    "string": pa.string(),
    "enum": pa.string(),
    "int": pa.int32(),
    "long": pa.int64(),
    "float": pa.float32(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "bytes": pa.binary(),
    "fixed": pa.binary(),
}


class ContractError(IngestError):
    """A contract file is missing, unparsable or not a valid schema."""


@dataclass(frozen=True)
class Column:
    type: pa.DataType
    doc: str | None = None
    pii: bool = False


@dataclass
class Contract:
    """What a source promises about its records."""

    kind: Literal["json_schema", "avro", "none"]
    name: str = ""
    description: str | None = None
    columns: dict[str, Column] = field(default_factory=dict)
    _validator: Any = None
    _avro: AvroSchema | None = None

    @property
    def pii_columns(self) -> list[str]:
        return [name for name, column in self.columns.items() if column.pii]

    def decode_json(self, value: bytes) -> tuple[dict[str, Any] | None, str | None]:
        """A JSON object that satisfies the contract, or the reason it is refused."""
        obj, reason = parse_json(value)
        if reason is not None:
            return None, reason
        if not isinstance(obj, dict):
            return None, f"expected a JSON object, got {_json_kind(obj)}"
        return obj, self.violation(obj)

    def decode_avro(
        self, value: bytes, wire_format: str = "plain"
    ) -> tuple[dict[str, Any] | None, str | None]:
        """An Avro record decoded with the contract's schema, or the reason it cannot be."""
        assert self._avro is not None, "decode_avro needs an Avro contract"
        if wire_format == "confluent":
            if len(value) < 5 or value[0] != 0:
                return None, "missing the schema-registry prefix (magic byte 0 + schema id)"
            value = value[5:]
        buffer = io.BytesIO(value)
        try:
            record = fastavro.schemaless_reader(buffer, self._avro, None)
        except Exception as exc:  # garbage bytes raise about anything (IndexError, ...)
            return None, f"undecodable Avro for schema {self.name}: {type(exc).__name__}: {exc}"
        if buffer.tell() != len(value):
            return None, (
                f"undecodable Avro for schema {self.name}: {len(value) - buffer.tell()} "
                "bytes left over (written with another schema?)"
            )
        if not isinstance(record, dict):
            return None, f"expected an Avro record, got {type(record).__name__}"
        return record, None

    def violation(self, obj: dict[str, Any]) -> str | None:
        """Why a decoded record breaks the JSON Schema contract (None: it does not)."""
        if self._validator is None:
            return None
        error = jsonschema.exceptions.best_match(self._validator.iter_errors(obj))
        if error is None:
            return None
        where = error.json_path
        return f"contract {self.name}: {where}: {error.message}"


def no_contract() -> Contract:
    return Contract(kind="none", name="(none)")


def load_contract(path: Path) -> Contract:
    """Read a JSON Schema (`.json`) or Avro schema (`.avsc`) contract."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContractError(f"{path}: contract file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ContractError(f"{path}: cannot read contract: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ContractError(f"{path}: line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if path.suffix == ".avsc":
        return _avro_contract(path, document)
    return _json_schema_contract(path, document)


def _json_schema_contract(path: Path, schema: Any) -> Contract:
    if not isinstance(schema, dict):
        raise ContractError(f"{path}: a JSON Schema contract must be an object")
    cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except jsonschema.exceptions.SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(top level)"
        raise ContractError(f"{path}: {where}: not a valid JSON Schema: {exc.message}") from None
    if schema.get("type") not in (None, "object"):
        raise ContractError(f"{path}: type: a record contract describes an object")
    columns = {}
    for name, spec in (schema.get("properties") or {}).items():
        if not isinstance(spec, dict):
            continue
        columns[name] = Column(
            type=_json_schema_type(spec),
            doc=spec.get("description") or spec.get("title"),
            pii=bool(spec.get("x-pii", False)),
        )
    return Contract(
        kind="json_schema",
        name=path.name,
        description=schema.get("description") or schema.get("title"),
        columns=columns,
        _validator=cls(schema, format_checker=cls.FORMAT_CHECKER),
    )


def _json_schema_type(spec: dict[str, Any]) -> pa.DataType:
    kind = spec.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    # Objects, arrays and unions are kept as JSON text: the raw zone does not shred payloads.
    return _JSON_TYPES.get(kind, pa.string()) if isinstance(kind, str) else pa.string()


def _avro_contract(path: Path, document: Any) -> Contract:
    try:
        parsed = fastavro.parse_schema(document)
    except (fastavro.schema.SchemaParseException, KeyError, TypeError, ValueError) as exc:
        raise ContractError(f"{path}: not a valid Avro schema: {exc}") from None
    if not isinstance(document, dict) or document.get("type") != "record":
        raise ContractError(f"{path}: type: a record contract is an Avro record schema")
    columns = {
        f["name"]: Column(type=_avro_type(f["type"]), doc=f.get("doc"), pii=bool(f.get("pii")))
        for f in document.get("fields", [])
    }
    return Contract(
        kind="avro",
        name=path.name,
        description=document.get("doc"),
        columns=columns,
        _avro=parsed,
    )


def _avro_type(avro: Any) -> pa.DataType:
    if isinstance(avro, list):
        branches = [b for b in avro if b != "null"]
        return _avro_type(branches[0]) if len(branches) == 1 else pa.string()
    if isinstance(avro, dict):
        if avro.get("logicalType") in ("decimal", "uuid"):
            return pa.string()
        kind = avro.get("type")
        return _AVRO_TYPES.get(kind, pa.string()) if isinstance(kind, str) else pa.string()
    return _AVRO_TYPES.get(avro, pa.string())


def value_type(value: Any) -> pa.DataType | None:
    """The type of an undeclared field, from its value (None: no information, a null)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return pa.bool_()
    if isinstance(value, int):
        return pa.int64()
    if isinstance(value, float):
        return pa.float64()
    if isinstance(value, bytes):
        return pa.binary()
    return pa.string()


def as_column_value(value: Any, kind: pa.DataType) -> Any:
    """A decoded value in the representation of its column's type."""
    if value is None:
        return None
    if pa.types.is_string(kind) and not isinstance(value, str):
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return repr(value)
        if isinstance(value, bytes):
            return value.hex()
        return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    if pa.types.is_floating(kind) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if pa.types.is_integer(kind) and isinstance(value, float) and value.is_integer():
        return int(value)  # JSON Schema counts 3.0 as an integer
    return value


def widens(found: pa.DataType, column: pa.DataType) -> bool:
    """Whether values of `found` fit a column of type `column` (same type or a widening)."""
    return found == column or (found, column) in WIDENINGS


# Bounds a JSON record must keep, checked before or while parsing (never by a crash): deeper
# nesting would exhaust the parser's recursion, numbers outside these ranges do not fit the
# int64/double columns of the raw zone, and NaN/Infinity are not JSON (RFC 8259).
MAX_JSON_DEPTH = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_OPEN_CLOSE = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


class _Refused(ValueError):
    """Raised from a json.loads hook: the record breaks a bound; the message is the reason."""


def parse_json(value: bytes) -> tuple[Any, str | None]:
    """A JSON document within e360's bounds, or the reason it is refused (never an exception).

    Refused: invalid UTF-8, nesting deeper than MAX_JSON_DEPTH, integers outside int64,
    numbers that overflow a double, NaN/Infinity, duplicate keys, lone surrogates.
    """
    if not value:
        return None, "empty message (zero bytes): no JSON value"
    try:
        # Strict UTF-8 (RFC 8259): json.loads on bytes would guess UTF-16/32 from a BOM.
        text = value.decode("utf-8")
    except UnicodeDecodeError:
        return None, "bytes not valid utf-8"
    if nested_deeper_than(value, MAX_JSON_DEPTH):
        return None, f"JSON nested deeper than {MAX_JSON_DEPTH} levels"
    try:
        obj = json.loads(
            text,
            parse_int=_bounded_int,
            parse_float=_bounded_float,
            parse_constant=_no_constant,
            object_pairs_hook=_unique_keys,
        )
    except _Refused as exc:
        return None, str(exc)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} at column {exc.colno}"
    if _SURROGATE_ESCAPE.search(text) and (where := _lone_surrogate(obj)) is not None:
        return None, f"a string holds a lone surrogate (\\u{ord(where):04x}): not valid Unicode"
    return obj, None


def nested_deeper_than(value: bytes, limit: int) -> bool:
    """Whether a JSON text nests deeper than `limit`, found without recursion (so before the
    recursive parser): brackets inside strings are dropped, then each pass removes the
    innermost bracket pairs, one level per pass. Unbalanced text counts as deep as its
    unmatched brackets (the parser refuses it anyway)."""
    if value.count(b"[") + value.count(b"{") <= limit:
        return False
    brackets = _STRING.sub(b"", value).translate(_OPEN_CLOSE, _NOT_BRACKETS)
    for _level in range(limit):
        brackets = brackets.replace(b"[]", b"")
        if not brackets:
            return False
    return True


def _bounded_int(digits: str) -> int:
    # Checked on the text first: int() of thousands of digits is refused (or slow) by Python.
    if len(digits.lstrip("-")) > 19 or not INT64_MIN <= (number := int(digits)) <= INT64_MAX:
        raise _Refused(f"integer {_shown(digits)} is outside the 64-bit range")
    return number


def _bounded_float(digits: str) -> float:
    number = float(digits)
    if not math.isfinite(number):
        raise _Refused(f"number {_shown(digits)} is out of range for a double")
    return number


def _no_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number (RFC 8259)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _Refused(f"duplicate key '{_printable(key)}' in an object")
            seen.add(key)
    return obj


def _lone_surrogate(obj: Any) -> str | None:
    """The first lone surrogate in any key or string of a parsed document (None: there is none)."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as exc:
                return item[exc.start]
    return None


def _json_kind(obj: Any) -> str:
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, int | float):
        return "a number"
    return "a string" if isinstance(obj, str) else "an array"


def _shown(digits: str) -> str:
    return digits if len(digits) <= 40 else f"{digits[:20]}...({len(digits)} characters)"


def _printable(name: str) -> str:
    return name.encode("utf-8", "backslashreplace").decode("utf-8")[:200]


def out_of_range(value: Any, kind: pa.DataType) -> str | None:
    """Why a decoded value cannot be stored in a column of `kind` (None: it can): integers
    within the column's width, finite floating point numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and pa.types.is_integer(kind):
        bits = kind.bit_width
        if not -(2 ** (bits - 1)) <= value <= 2 ** (bits - 1) - 1:
            return f"integer {_shown(str(value))} is outside the {bits}-bit range"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    return None
