"""Contracts (JSON Schema, Avro) and the stream section -> librdkafka settings mapping."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pytest

from e360.config import StreamSettings
from e360.errors import ConfigError
from ingestion.contracts import ContractError, load_contract, widens
from ingestion.stream.kafka_settings import MskIamToken, consumer_settings

CONTRACTS = Path(__file__).resolve().parents[2] / "examples" / "stream" / "contracts"


def test_json_schema_contract_types_documents_and_tags_pii() -> None:
    contract = load_contract(CONTRACTS / "web_orders.schema.json")
    assert contract.columns["seq"].type == pa.int64()
    assert contract.columns["amount"].type == pa.float64()
    assert contract.columns["account_id"].type == pa.string()  # ["string", "null"]
    assert contract.columns["order_id"].doc == "The shop's order number"
    assert contract.pii_columns == ["email"]
    assert contract.decode_json(b'{"order_id": "1", "seq": 1, "status": "PLACED"}')[1] is None
    _, reason = contract.decode_json(b'{"order_id": "1", "seq": -1, "status": "PLACED"}')
    assert reason == "contract web_orders.schema.json: $.seq: -1 is less than the minimum of 0"
    _, reason = contract.decode_json(b'{"order_id": "1", "status": "PLACED"}')
    assert reason == "contract web_orders.schema.json: $: 'seq' is a required property"
    assert contract.decode_json(b"\xff\xfe")[1] == "bytes not valid utf-8"


def test_avro_contract_types_and_pii() -> None:
    contract = load_contract(CONTRACTS / "web_orders.avsc")
    assert contract.columns["quantity"].type == pa.int32()
    assert contract.columns["status"].type == pa.string()  # an enum
    assert contract.columns["email"].type == pa.string()  # ["null", "string"]
    assert contract.pii_columns == ["email"]
    _, reason = contract.decode_avro(b"\x01\x02", "confluent")
    assert reason == "missing the schema-registry prefix (magic byte 0 + schema id)"


@pytest.mark.parametrize(
    ("document", "suffix", "message"),
    [
        ("{", ".json", "invalid JSON"),
        (
            '{"type": "object", "properties": {"a": {"type": "colour"}}}',
            ".json",
            "not a valid JSON Schema",
        ),
        ('{"type": "array"}', ".json", "a record contract describes an object"),
        (
            '{"type": "record", "name": "R", "fields": [{"name": "a", "type": "nope"}]}',
            ".avsc",
            "not a valid Avro schema",
        ),
    ],
)
def test_bad_contracts_name_the_file(tmp_path, document, suffix, message) -> None:
    path = tmp_path / f"bad{suffix}"
    path.write_text(document)
    with pytest.raises(ContractError) as error:
        load_contract(path)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value)


def test_only_iceberg_widenings_count_as_widening() -> None:
    assert widens(pa.int32(), pa.int64()) and widens(pa.float32(), pa.float64())
    assert not widens(pa.int64(), pa.float64()) and not widens(pa.string(), pa.int64())


def _stream(**kwargs) -> StreamSettings:
    return StreamSettings(topics=["t"], bootstrap_servers="b:9092", **kwargs)


def test_plaintext_settings_never_auto_commit() -> None:
    settings = consumer_settings("orders", _stream())
    assert settings["security.protocol"] == "PLAINTEXT"
    assert settings["group.id"] == "e360.orders"
    assert settings["enable.auto.commit"] is False and settings["enable.auto.offset.store"] is False
    assert settings["auto.offset.reset"] == "earliest"
    assert (
        consumer_settings("o", _stream(group_id="g", client={"fetch.min.bytes": 10}))[
            "fetch.min.bytes"
        ]
        == 10
    )


def test_tls_settings() -> None:
    settings = consumer_settings("orders", _stream(security="tls", ca_location="/etc/ca.pem"))
    assert settings["security.protocol"] == "SSL" and settings["ssl.ca.location"] == "/etc/ca.pem"
    assert "sasl.mechanisms" not in settings


def test_msk_iam_settings_sign_tokens_for_the_region(monkeypatch) -> None:
    settings = consumer_settings("orders", _stream(security="msk_iam"), {"AWS_REGION": "eu-west-1"})
    assert settings["security.protocol"] == "SASL_SSL"
    assert settings["sasl.mechanisms"] == "OAUTHBEARER"
    assert settings["oauth_cb"].region == "eu-west-1"
    calls = []

    def fake_token(region: str) -> tuple[str, int]:
        calls.append(region)
        return "signed-token", 1_700_000_900_000

    from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

    monkeypatch.setattr(MSKAuthTokenProvider, "generate_auth_token", staticmethod(fake_token))
    assert MskIamToken("us-east-2")("") == ("signed-token", 1_700_000_900.0)
    assert calls == ["us-east-2"]
    with pytest.raises(ConfigError, match=r"sources.orders.stream.region: msk_iam needs"):
        consumer_settings("orders", _stream(security="msk_iam"), {})


def test_the_example_contract_files_are_valid_json() -> None:
    for path in CONTRACTS.iterdir():
        json.loads(path.read_text())
