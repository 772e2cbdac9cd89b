"""`sources`: what each source sends and where it is read from: files (the landing folder or
S3, CSV options) or a Kafka stream, its record key, its mapping onto the canonical attributes,
and for event sources how rows become conformed events."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from e360.config.base import Section
from e360.entities import CONFORMED_EVENT_TYPES


class EventSettings(Section):
    """How a source's rows become conformed events."""

    type: str | None = None  # a constant event type for every row
    type_column: str | None = None  # or a source column, mapped through `type_map`
    type_map: dict[str, str] = Field(default_factory=dict)
    channel: str
    customer_source: str | None = None  # which source's keys `customer_ref` holds
    product_source: str | None = None

    @field_validator("type_map")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value.values()) - set(CONFORMED_EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; use {list(CONFORMED_EVENT_TYPES)}")
        return value


class CsvOptions(Section):
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    # For files without a byte-order mark; a BOM (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) decides.
    encoding: str = "utf-8-sig"  # utf-8, ignoring the byte-order mark spreadsheets write
    # Characters one field may hold; a larger field quarantines its row, the next line goes on.
    field_size_limit: int = Field(default=64 * 1024 * 1024, ge=1)


class S3Location(Section):
    """Landing files in S3: `path` is then a glob under `s3://<bucket>/<prefix>`."""

    bucket: str = Field(min_length=3)
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None  # an S3-compatible endpoint (tests, VPC endpoints)


class StreamSettings(Section):
    """A Kafka (Amazon MSK) source: topics consumed into the raw zone exactly once."""

    topics: list[str] = Field(min_length=1)
    bootstrap_servers: str = Field(min_length=1)
    group_id: str | None = None  # default: e360.<source>
    value_format: Literal["json", "avro"] = "json"
    # "confluent": values carry the schema-registry prefix (magic byte + 4-byte schema id).
    avro_wire_format: Literal["plain", "confluent"] = "plain"
    # plaintext (local brokers), tls, or msk_iam: SASL/OAUTHBEARER with IAM tokens over TLS.
    security: Literal["plaintext", "tls", "msk_iam"] = "plaintext"
    region: str | None = None  # msk_iam token region; default: the AWS environment's
    ca_location: str | None = None  # CA bundle for TLS; default: the system's
    batch_size: int = Field(default=5000, ge=1)  # records per Iceberg commit at most
    max_latency_seconds: float = Field(default=5.0, gt=0)  # a record waits at most this long
    client: dict[str, str | int | float | bool] = Field(default_factory=dict)  # librdkafka


class SourceConfig(Section):
    entity: Literal["customer", "product", "event"]
    format: Literal["csv", "jsonl", "parquet", "kafka"]
    path: str | None = Field(
        default=None, description="glob under the landing folder (or s3 prefix), e.g. crm/*.csv"
    )
    s3: S3Location | None = None  # landing files in S3 instead of the landing folder
    stream: StreamSettings | None = None  # format kafka: where and how to consume
    contract: Path | None = None  # JSON Schema (.json) or Avro schema (.avsc), relative to file
    key: str = Field(description="the column holding the source's own record key")
    required: list[str] = Field(default_factory=list)
    updated_at: str | None = None  # column telling when the source last changed the record
    default_region: str = "GB"  # phone numbers without a country code
    dayfirst: bool = True  # how to read ambiguous dates such as 03/04/1980
    csv: CsvOptions = CsvOptions()
    # A landing file lands once unchanged (size, mtime) for this long; younger files are
    # watched for up to this long (when short) or left for the next run as "not yet settled".
    settle_seconds: float = Field(default=1.0, ge=0)
    # A marker the source writes when a delivery is complete: "_SUCCESS" (a file in the
    # landing file's folder) or "{name}.done" (one per landing file); None: no marker.
    ready_marker: str | None = None
    mapping: dict[str, str] = Field(description="canonical attribute -> source column")
    event: EventSettings | None = None
    # At most one record of this source per master (a catalogue, a CRM without duplicates):
    # its records never share a master and are never compared with each other.
    one_per_master: bool = False
