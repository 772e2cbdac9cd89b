"""The stream decoder on every poison kind (fast, no services): a reason, never an exception;
the good records of the same batch land, and the counts add up."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from poison import Poison, avro_order, avro_poison, json_good, json_poison

from ingestion.contracts import load_contract, nested_deeper_than
from ingestion.stream.records import (
    Decoded,
    Message,
    decode,
    quarantine_table,
    shape,
)

CONTRACTS = Path(__file__).resolve().parents[2] / "examples" / "stream" / "contracts"
JSON_CONTRACT = load_contract(CONTRACTS / "web_orders.schema.json")
AVRO_CONTRACT = load_contract(CONTRACTS / "web_orders.avsc")


def _message(value: bytes | None, offset: int = 0, key: bytes | None = b"k") -> Message:
    return Message("orders", 0, offset, key, value, None)


@pytest.mark.parametrize("case", json_poison(), ids=lambda c: c.name)
def test_every_json_poison_kind_is_refused_with_a_reason_naming_it(case: Poison) -> None:
    decoded = decode(_message(case.value, key=case.key), JSON_CONTRACT, "json", "plain")
    assert decoded.values is None
    assert case.reason in (decoded.reason or ""), decoded.reason


@pytest.mark.parametrize("case", avro_poison(), ids=lambda c: c.name)
def test_every_avro_poison_kind_is_refused_with_a_reason_naming_it(case: Poison) -> None:
    decoded = decode(_message(case.value), AVRO_CONTRACT, "avro", "plain")
    assert decoded.values is None
    assert case.reason in (decoded.reason or ""), decoded.reason


def test_a_batch_of_poison_and_good_records_lands_the_good_ones() -> None:
    poison = json_poison()
    good = json_good()
    messages = [_message(p.value, i, p.key) for i, p in enumerate(poison)]
    messages += [_message(v, len(poison) + i, k) for i, (k, v) in enumerate(good)]
    decoded = [decode(m, JSON_CONTRACT, "json", "plain") for m in messages]

    shaped = shape(decoded, None, JSON_CONTRACT, "orders", "b1", "raw.orders__event")

    assert shaped.raw.num_rows + len(shaped.poison) == len(messages)
    assert shaped.raw.column("seq").to_pylist() == [1001, 1002, 1003, 1004, 1005, 1006]
    assert shaped.raw.column("points").to_pylist()[0] == 2**63 - 1
    assert shaped.raw.column("low").to_pylist()[0] == -(2**63)
    assert shaped.raw.column("note").to_pylist()[2] == "\U0001f600 caf\u00e9"
    assert shaped.raw.column("_key").to_pylist()[-1] is None
    assert sorted(m.offset for m, _ in shaped.poison) == list(range(len(poison)))
    table = quarantine_table(shaped.poison, "orders", "b1", shaped.raw.column(2)[0].as_py())
    assert table.num_rows == len(poison)
    assert max(len(r) for r in table.column("_reason").to_pylist()) <= 1000
    raws = dict(
        zip(
            table.column("_offset").to_pylist(), table.column("_raw_bytes").to_pylist(), strict=True
        )
    )
    assert all(raws[i] == p.value for i, p in enumerate(poison))  # the bytes, exactly


def test_avro_edge_values_land() -> None:
    value = avro_order(1, quantity=2**31 - 1, amount=-1.5e308)
    decoded = decode(_message(value), AVRO_CONTRACT, "avro", "plain")
    shaped = shape([decoded], None, AVRO_CONTRACT, "orders", "b1", "raw.orders__event")
    assert shaped.poison == []
    assert shaped.raw.column("quantity").to_pylist() == [2**31 - 1]


def test_a_message_over_a_smaller_limit_is_refused_unread() -> None:
    decoded = decode(_message(b'{"seq": 1}'), JSON_CONTRACT, "json", "plain", max_bytes=5)
    assert decoded.reason == "message of 10 bytes is over the limit of 5 bytes"


def test_an_unexpected_exception_while_decoding_is_quarantined_with_its_type() -> None:
    """The last-resort guard: a failure nobody foresaw names itself; it is not a crash."""

    class Exploding(type(JSON_CONTRACT)):  # type: ignore[misc]
        def violation(self, obj):  # type: ignore[no-untyped-def]
            raise RuntimeError("validator blew up")

    contract = Exploding(kind="json_schema", name="x.json")
    decoded = decode(_message(b'{"seq": 1}'), contract, "json", "plain")
    assert decoded.reason == "undecodable: RuntimeError: validator blew up"


def test_a_value_that_does_not_convert_is_quarantined_and_the_rest_land() -> None:
    """Past the checks, a value arrow cannot store fails only its own record."""
    good = decode(
        _message(b'{"order_id": "O1", "seq": 1, "status": "PLACED"}', 0),
        JSON_CONTRACT,
        "json",
        "plain",
    )
    odd = Decoded(_message(b"odd", 1), values={"seq": "not a number"}, types={"seq": pa.int64()})
    shaped = shape([good, odd], None, JSON_CONTRACT, "orders", "b1", "raw.orders__event")
    assert shaped.raw.column("seq").to_pylist() == [1]
    ((message, reason),) = shaped.poison
    assert message.offset == 1 and reason.startswith("unstorable: ")


@pytest.mark.parametrize(
    ("text", "deeper"),
    [
        (b"[]", False),
        (b"[" * 64 + b"]" * 64, False),
        (b"[" * 65 + b"]" * 65, True),
        (b'{"a": "' + b"[" * 500 + b'"}', False),  # brackets in a string do not nest
        (b'{"a": "\\"' + b"[" * 500 + b'"}', False),  # nor after an escaped quote
        (b"[" * 70, True),  # unbalanced
        (b"[" + b"{}, [], " * 1000 + b"1]", False),  # many brackets, shallow
    ],
    ids=["empty", "64", "65", "in-a-string", "escaped-quote", "unbalanced", "wide"],
)
def test_nesting_depth_is_found_without_recursion(text: bytes, deeper: bool) -> None:
    assert nested_deeper_than(text, 64) is deeper
