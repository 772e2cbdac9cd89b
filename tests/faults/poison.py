"""A corpus of poison stream payloads (web-order JSON values), each with the words its
quarantine reason must contain, and good records at the edges of the bounds that must land.

Shared by the fast decoder tests and the tests through a real broker (tansu)."""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass

from ingestion.contracts import MAX_JSON_DEPTH
from ingestion.stream.records import MAX_MESSAGE_BYTES


@dataclass(frozen=True)
class Poison:
    name: str
    value: bytes | None
    reason: str  # a fragment of the quarantine reason, naming the problem

    @property
    def key(self) -> bytes | None:
        """The message key: the case's name (one case has none: keys are optional)."""
        return None if self.name == "null_key" else f"poison-{self.name}".encode()


def order(seq: int, **fields: object) -> dict[str, object]:
    return {"order_id": f"O{seq:05d}", "seq": seq, "status": "PLACED", **fields}


def _json(seq: int, tail: str) -> bytes:
    """An order with raw JSON text spliced in before the closing brace."""
    return f'{{"order_id": "O{seq:05d}", "seq": {seq}, "status": "PLACED", {tail}}}'.encode()


def json_poison() -> list[Poison]:
    big = "9" * 5000
    return [
        Poison("int_above_int64", _json(1, '"points": 9223372036854775808'), "64-bit range"),
        Poison("int_below_int64", _json(2, '"points": -9223372036854775809'), "64-bit range"),
        Poison("int_5000_digits", _json(3, f'"points": {big}'), "64-bit range"),
        Poison(
            "declared_int_1e300",
            b'{"order_id": "O4", "seq": 1e300, "status": "PLACED"}',
            "64-bit range",
        ),
        Poison("float_overflow", _json(5, '"amount": 1e400'), "out of range for a double"),
        Poison("nan", _json(6, '"amount": NaN'), "NaN is not a JSON number"),
        Poison("infinity", _json(7, '"amount": Infinity'), "Infinity is not a JSON number"),
        Poison("minus_infinity", _json(8, '"amount": -Infinity'), "-Infinity is not a JSON"),
        Poison(
            "array_5000_deep",
            _json(9, '"x": ' + "[" * 5000 + "]" * 5000),
            f"nested deeper than {MAX_JSON_DEPTH}",
        ),
        Poison(
            "object_100k_deep",
            ('{"a": ' * 100_000 + "1" + "}" * 100_000).encode(),
            f"nested deeper than {MAX_JSON_DEPTH}",
        ),
        Poison("unclosed_100k_deep", b"[" * 100_000, f"nested deeper than {MAX_JSON_DEPTH}"),
        Poison("lone_surrogate_escape", _json(10, '"note": "\\ud800"'), "lone surrogate"),
        Poison("lone_low_surrogate_key", _json(11, '"\\udc00": 1'), "lone surrogate"),
        Poison(
            "lone_surrogate_bytes",
            _json(12, '"note": "')[:-1] + b'\xed\xa0\x80"}',
            "not valid utf-8",
        ),
        Poison(
            "invalid_utf8",
            b'{"order_id": "\xc3\x28", "seq": 13, "status": "PLACED"}',
            "not valid utf-8",
        ),
        Poison("utf16", json.dumps(order(14)).encode("utf-16"), "not valid utf-8"),
        Poison("utf8_bom", b"\xef\xbb\xbf" + json.dumps(order(15)).encode(), "invalid JSON"),
        Poison("empty", b"", "empty message"),
        Poison("tombstone", None, "tombstone"),
        Poison(
            "over_the_limit",
            b'{"pad": [' + b"0," * (MAX_MESSAGE_BYTES // 2) + b"0]}",
            "over the limit",
        ),
        Poison(
            "string_10_mb", json.dumps(order(16, note="x" * 10_000_000)).encode(), "over the limit"
        ),
        Poison("scalar", b"42", "expected a JSON object, got a number"),
        Poison("string", b'"O00017"', "expected a JSON object, got a string"),
        Poison("array", json.dumps([order(18)]).encode(), "expected a JSON object, got an array"),
        Poison("null", b"null", "expected a JSON object, got null"),
        Poison("invalid_json", b"{not json", "invalid JSON"),
        Poison("truncated", json.dumps(order(19)).encode()[:-5], "invalid JSON"),
        Poison(
            "seq_a_string",
            json.dumps(order(20) | {"seq": "twenty"}).encode(),
            "'twenty' is not of type 'integer'",
        ),
        Poison(
            "seq_an_object",
            json.dumps(order(21) | {"seq": {"n": 21}}).encode(),
            "is not of type 'integer'",
        ),
        Poison(
            "status_unknown", json.dumps(order(22, status="LOST")).encode(), "'LOST' is not one of"
        ),
        Poison(
            "seq_missing",
            b'{"order_id": "O23", "status": "PLACED"}',
            "'seq' is a required property",
        ),
        Poison("duplicate_key", _json(24, '"seq": 25'), "duplicate key 'seq'"),
        Poison("nested_duplicate_key", _json(26, '"meta": {"a": 1, "a": 2}'), "duplicate key 'a'"),
        Poison("fields_differ_in_case", _json(27, '"Status": "PLACED"'), "differ only in case"),
        Poison("metadata_field", _json(28, '"_offset": 5'), "collides with a metadata column"),
        Poison("null_key", _json(29, '"x": NaN'), "NaN is not a JSON number"),
    ]


def json_good() -> list[tuple[bytes | None, bytes]]:
    """Records at the edges of the bounds: they land, each once (keys: the order ids)."""
    deep = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    values = [
        json.dumps(order(1001, points=2**63 - 1, low=-(2**63))).encode(),
        _json(1002, f'"x": {deep}'),  # exactly MAX_JSON_DEPTH deep, the order included
        _json(1003, '"note": "\\ud83d\\ude00 caf\\u00e9", "brackets": "[[[[{{{{"'),
        json.dumps(order(1004, note="x" * 1_000_000)).encode(),  # large, under the limit
        json.dumps(order(1005, amount=1.5e308)).encode(),
    ]
    good = [(f"O{1001 + i:05d}".encode(), v) for i, v in enumerate(values)]
    good.append((None, json.dumps(order(1006)).encode()))  # no key: Kafka keys are optional
    return good


# -- Avro (the example contract web_orders.avsc) -------------------------------------------


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        if not n:
            out.append(low)
            return bytes(out)
        out.append(low | 0x80)


def _long(n: int) -> bytes:
    return _varint(n << 1 if n >= 0 else (-n << 1) - 1)  # zigzag


def _text(value: bytes) -> bytes:
    return _long(len(value)) + value


def avro_order(
    seq: int,
    *,
    order_id: bytes | None = None,
    status: int = 0,
    email: bytes = _long(0),  # the union's null branch
    amount: float = 2.5,
    quantity: int = 3,
) -> bytes:
    """A WebOrder in Avro's binary encoding, written by hand so that it can be wrong."""
    return (
        _text(order_id if order_id is not None else f"A{seq:05d}".encode())
        + _long(seq)
        + _long(status)
        + email
        + struct.pack("<d", amount)
        + _long(quantity)
    )


def avro_poison() -> list[Poison]:
    return [
        Poison("avro_nan", avro_order(1, amount=float("nan")), "not a finite number"),
        Poison("avro_infinity", avro_order(2, amount=float("inf")), "not a finite number"),
        Poison("avro_int_over_32_bits", avro_order(3, quantity=2**40), "32-bit range"),
        Poison("avro_enum_index", avro_order(4, status=7), "undecodable Avro"),
        Poison("avro_union_index", avro_order(5, email=_long(9)), "undecodable Avro"),
        Poison("avro_invalid_utf8", avro_order(6, order_id=b"\xff\xfe"), "UnicodeDecodeError"),
        Poison(
            "avro_surrogate_bytes", avro_order(7, order_id=b"\xed\xa0\x80"), "UnicodeDecodeError"
        ),
        Poison("avro_length_2_40", _long(2**40) + b"abc", "undecodable Avro"),
        Poison("avro_negative_length", _long(-5) + b"abc", "undecodable Avro"),
        Poison("avro_truncated", avro_order(8)[:-3], "undecodable Avro"),
        Poison("avro_left_over", avro_order(9) + b"\x00\x01", "bytes left over"),
        Poison("avro_empty", b"", "undecodable Avro"),
        Poison("avro_tombstone", None, "tombstone"),
    ]
