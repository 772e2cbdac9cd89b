"""`sources`: what each source sends and where it is read from: files (the landing folder or
S3, CSV options) or a Kafka stream, its record key, its mapping onto the canonical attributes,
and for event sources how rows become conformed events."""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from e360.config.base import Section
from e360.entities import CONFORMED_EVENT_TYPES


class EventSettings(Section):
    """How a source's rows become conformed events.

    A reference (`customer_ref`, `product_ref`) points into one source (`customer_source`) or
    into one of several (`customer_sources`), the row telling which: a column naming the source
    (`customer_source_column`) or the key's prefix (`customer_key_prefixes`). A reference that
    names no record of its source is rejected, never conformed with a null master id; an empty
    one is an anonymous event.
    """

    type: str | None = None
    """A constant event type for every row (give this or `type_column`)."""
    type_column: str | None = None
    """A source column holding the event type, mapped through `type_map`."""
    type_map: dict[str, str] = Field(default_factory=dict)
    """Source value -> conformed event type, for `type_column`."""
    channel: str
    """The channel every event of this source came through (e.g. `web`, `store`)."""
    customer_source: str | None = None
    """The one customer source whose keys `customer_ref` holds (several: `customer_sources`)."""
    customer_sources: list[str] = Field(default_factory=list)
    """The customer sources `customer_ref` may point into; `customer_source_column` or
    `customer_key_prefixes` tells which one a row means.
    """
    customer_source_column: str | None = None
    """A source column naming, per row, the customer source of `customer_ref` (its values are
    source names, or translated by `customer_source_map`).
    """
    customer_source_map: dict[str, str] = Field(default_factory=dict)
    """Value of `customer_source_column` -> customer source, e.g. `{CRM-A: crm, SHOP: shop}`; a
    value not listed is taken as a source name itself.
    """
    customer_key_prefixes: dict[str, str] = Field(default_factory=dict)
    """Key prefix -> customer source, e.g. `{"C-": crm, "S-": shop}`: a `customer_ref` starting
    with the prefix is a key of that source. No prefix may start another.
    """
    customer_strip_prefix: bool = False
    """Remove the matched prefix before looking the key up (the feed tagged its keys: `C-123` is
    `crm` key `123`); false: the prefix is part of the source's own keys (`C-123` is `crm` key
    `C-123`).
    """
    product_source: str | None = None
    """The one product source whose keys `product_ref` holds (several: `product_sources`)."""
    product_sources: list[str] = Field(default_factory=list)
    """The product sources `product_ref` may point into; `product_source_column` or
    `product_key_prefixes` tells which one a row means.
    """
    product_source_column: str | None = None
    """A source column naming, per row, the product source of `product_ref` (its values are
    source names, or translated by `product_source_map`).
    """
    product_source_map: dict[str, str] = Field(default_factory=dict)
    """Value of `product_source_column` -> product source, e.g. `{ERP: erp, MP: marketplace}`; a
    value not listed is taken as a source name itself.
    """
    product_key_prefixes: dict[str, str] = Field(default_factory=dict)
    """Key prefix -> product source, e.g. `{"SKU-": erp, "MP-": marketplace}`: a `product_ref`
    starting with the prefix is a key of that source. No prefix may start another.
    """
    product_strip_prefix: bool = False
    """Remove the matched prefix before looking the key up; false: the prefix is part of the
    source's own keys (see `customer_strip_prefix`).
    """

    def reference(self, entity: Literal["customer", "product"]) -> EventReference:
        """How this source's rows name records of `entity`, its settings gathered in one place."""
        if entity == "customer":
            single, several = self.customer_source, self.customer_sources
            column, values = self.customer_source_column, self.customer_source_map
            prefixes, strip = self.customer_key_prefixes, self.customer_strip_prefix
        else:
            single, several = self.product_source, self.product_sources
            column, values = self.product_source_column, self.product_source_map
            prefixes, strip = self.product_key_prefixes, self.product_strip_prefix
        sources = tuple(several) if several else ((single,) if single else ())
        return EventReference(entity, sources, column, dict(values), dict(prefixes), strip)

    @field_validator("type_map")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value.values()) - set(CONFORMED_EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; use {list(CONFORMED_EVENT_TYPES)}")
        return value


@dataclass(frozen=True)
class EventReference:
    """How an event source's rows name records of one entity (`EventSettings.reference`)."""

    entity: Literal["customer", "product"]
    sources: tuple[str, ...]
    """Every source a reference may point into (none: the source takes no such references)."""
    source_column: str | None
    source_map: dict[str, str]
    key_prefixes: dict[str, str]
    strip_prefix: bool


class CsvOptions(Section):
    """How a CSV file is read (Python's `csv` module does the parsing)."""

    delimiter: str = Field(default=",", min_length=1, max_length=1)
    """The field separator, one character."""
    encoding: str = "utf-8-sig"
    """For files without a byte-order mark (a BOM decides: UTF-8, UTF-16 or UTF-32); the default is
    UTF-8, ignoring the BOM spreadsheets write. E.g. `latin-1`, `cp1252`. A row with bytes not
    valid in it is quarantined, named by file and row.
    """
    quote_char: str | None = Field(default='"', min_length=1, max_length=1)
    """The character quoting fields that hold the delimiter, quotes or line breaks; null: fields
    are never quoted (quote characters are plain data).
    """
    double_quote: bool = True
    """Inside a quoted field, two quote characters stand for one (`""` reads `"`); false: a quote
    inside a field is written with `escape_char`.
    """
    escape_char: str | None = Field(default=None, min_length=1, max_length=1)
    """A character making the next one plain data (e.g. `\\`: `\\;` is a `;` inside a field);
    null: none.
    """
    field_size_limit: int = Field(default=64 * 1024 * 1024, ge=1)
    """Characters one field may hold; a larger field quarantines its row and the next line goes on.
    """

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown encoding '{value}'") from None
        return value

    @model_validator(mode="after")
    def _distinct_characters(self) -> CsvOptions:
        named = {
            "delimiter": self.delimiter,
            "quote_char": self.quote_char,
            "escape_char": self.escape_char,
        }
        seen: dict[str, str] = {}
        for key, char in named.items():
            if char is None:
                continue
            if char in "\r\n":
                raise ValueError(f"{key} cannot be a line break")
            if char in seen:
                raise ValueError(f"{seen[char]} and {key} are both {char!r}: give each its own")
            seen[char] = key
        return self


class S3Location(Section):
    """Landing files in S3: `path` is then a glob under `s3://<bucket>/<prefix>`."""

    bucket: str = Field(min_length=3)
    """The bucket the source delivers to."""
    prefix: str = ""
    """The prefix under the bucket; `path` is a glob below it."""
    region: str | None = None
    """The bucket's region; default: the environment's."""
    endpoint_url: str | None = None
    """An S3-compatible endpoint (tests, VPC endpoints)."""


class StreamSettings(Section):
    """A Kafka (Amazon MSK) source: topics consumed into the raw zone exactly once."""

    topics: list[str] = Field(min_length=1)
    """The Kafka topics to consume."""
    bootstrap_servers: str = Field(min_length=1)
    """The brokers, `host:port[,host:port...]`."""
    group_id: str | None = None
    """The consumer group; default: `e360.<source>`."""
    value_format: Literal["json", "avro"] = "json"
    """How message values are encoded."""
    avro_wire_format: Literal["plain", "confluent"] = "plain"
    """`confluent`: Avro values carry the schema registry's prefix (magic byte and 4-byte schema
    id).
    """
    security: Literal["plaintext", "tls", "msk_iam"] = "plaintext"
    """`plaintext` (local brokers), `tls`, or `msk_iam`: SASL/OAUTHBEARER with IAM tokens over TLS.
    """
    region: str | None = None
    """The region of `msk_iam` tokens; default: the environment's."""
    ca_location: str | None = None
    """A CA bundle for TLS; default: the system's."""
    batch_size: int = Field(default=5000, ge=1)
    """Records per Iceberg commit at most."""
    max_latency_seconds: float = Field(default=5.0, gt=0)
    """A consumed record waits at most this long before it is committed."""
    client: dict[str, str | int | float | bool] = Field(default_factory=dict)
    """Further librdkafka settings, passed to the consumer as they are."""


class SourceConfig(Section):
    entity: Literal["customer", "product", "event"]
    """What the source's records are: customers, products or events."""
    format: Literal["csv", "jsonl", "parquet", "kafka"]
    """How the source delivers: files (`csv`, `jsonl`, `parquet`) or a Kafka stream."""
    path: str | None = None
    """A glob under the landing folder (or under the `s3` prefix), e.g. `crm/*.csv`; required for
    files.
    """
    s3: S3Location | None = None
    """Landing files in S3 instead of the landing folder."""
    stream: StreamSettings | None = None
    """Where and how to consume, for `format: kafka`."""
    contract: Path | None = None
    """A JSON Schema (`.json`) or Avro schema (`.avsc`) every record must satisfy; relative to the
    configuration file.
    """
    key: str
    """The column holding the source's own record key."""
    required: list[str] = Field(default_factory=list)
    """Columns every record must have (non-empty); a record without one is quarantined."""
    updated_at: str | None = None
    """The column telling when the source last changed the record (survivorship's recency)."""
    default_region: str = "GB"
    """The country (ISO 3166 alpha-2) of phone numbers written without a country code."""
    dayfirst: bool = True
    """How to read ambiguous dates such as 03/04/1980: true is 3 April."""
    csv: CsvOptions = CsvOptions()
    """How CSV files are read."""
    settle_seconds: float = Field(default=1.0, ge=0)
    """A landing file lands once unchanged (size, mtime) for this long; younger files are watched
    for up to this long (when short) or left for the next run as not yet settled.
    """
    ready_marker: str | None = None
    """A marker the source writes when a delivery is complete: `_SUCCESS` (a file in the landing
    file's folder) or `{name}.done` (one per landing file); none: no marker.
    """
    mapping: dict[str, str]
    """Canonical attribute -> the source column holding it, or a template naming columns in
    braces, e.g. `"{street_number} {street}"`: missing or blank columns are dropped with the
    separator before them, all blank is null. `{{`/`}}` are literal braces, also inside braces:
    a column whose name holds a brace is named in braces with its braces doubled (`price {eur}`:
    `"{price {{eur}}}"`).
    """
    event: EventSettings | None = None
    """How rows become conformed events (event sources only)."""
    one_per_master: bool = False
    """At most one record of this source per master (a catalogue, a CRM without duplicates): its
    records never share a master and are never compared with each other.
    """
