"""The registry of zone tables: what each zone's tables are called and what they hold.

Every layer reads and writes the lake through these names and schemas, so a table's name is
built in one place:

| zone           | table                          | written by                          |
|----------------|--------------------------------|-------------------------------------|
| `raw`          | `<source>__<entity>`           | ingestion (files and streams)       |
| `quarantine`   | `<source>`                     | ingestion: rows refused, the reason |
| `standardized` | `<entity>`                     | standardisation, columns below      |
| `master`       | `<entity>_<table>`, per table  | matching: see `MASTER_TABLES`       |
| `conformed`    | `events`, `event_rejects`      | event conformance                   |
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import pyarrow as pa

if TYPE_CHECKING:  # the configuration validates columns against this registry
    from e360.config import SourceConfig

KEY_COLUMNS = (
    ("record_id", pa.string()),
    ("source", pa.string()),
    ("source_key", pa.string()),
)
LINEAGE_COLUMNS = (
    ("source_updated_at", pa.timestamp("us")),
    ("_batch_id", pa.string()),
    ("_ingested_at", pa.timestamp("us")),
)
DISPLAY_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "customer": (
        "first_name",
        "middle_name",
        "last_name",
        "full_name",
        "address_line1",
        "address_line2",
        "city",
        "region",
        "company_name",
    ),
    "product": ("title", "brand", "manufacturer", "category", "description"),
}
"""Canonical attributes whose matching form (lower-case, accents folded, abbreviated) is not
what a person should read: each also keeps its display value, `display_column(attribute)`,
the value as the source wrote it with its whitespace collapsed. The others' standardised
forms read well as they are (e-mail lower-cased, phone E.164, ISO codes, dates, numbers)."""


def display_column(attribute: str) -> str:
    """The standardized and golden column holding an attribute's display value."""
    return f"{attribute}_display"


def display_columns(entity: str) -> dict[str, str]:
    """Attribute -> its display column, for the entity's display attributes."""
    return {a: display_column(a) for a in DISPLAY_ATTRIBUTES.get(entity, ())}


STANDARDIZED_CUSTOMER_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("first_name", pa.string()),
    ("first_name_raw", pa.string()),
    ("middle_name", pa.string()),
    ("last_name", pa.string()),
    ("full_name", pa.string()),
    ("date_of_birth", pa.date32()),
    ("gender", pa.string()),
    ("email", pa.string()),
    ("phone", pa.string()),
    ("address_line1", pa.string()),
    ("address_line2", pa.string()),
    ("city", pa.string()),
    ("postcode", pa.string()),
    ("region", pa.string()),
    ("country", pa.string()),
    ("national_id", pa.string()),
    ("email_user", pa.string()),
    ("postcode_area", pa.string()),
    ("dob_year", pa.int32()),
    ("name_sort", pa.string()),
    ("first_name_phonetic", pa.string()),
    ("last_name_phonetic", pa.string()),
    ("company_name", pa.string()),
    ("company_name_tokens", pa.string()),
)
"""The matching forms standardize_customer() outputs, in order, with their Arrow types (its
display values follow: `DISPLAY_COLUMNS`)."""

STANDARDIZED_PRODUCT_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("title", pa.string()),
    ("brand", pa.string()),
    ("manufacturer", pa.string()),
    ("model_number", pa.string()),
    ("gtin", pa.string()),
    ("sku", pa.string()),
    ("category", pa.string()),
    ("description", pa.string()),
    ("price", pa.float64()),
    ("currency", pa.string()),
    ("model_number_from_title", pa.bool_()),
    ("title_tokens", pa.string()),
    ("colour", pa.string()),
    # Free-text evidence (matching.standardize: text_features, lsh, embeddings).
    ("title_weighted", pa.string()),
    ("text_tokens", pa.string()),
    ("units", pa.string()),
    ("title_lsh", pa.list_(pa.string())),
    ("title_embedding", pa.list_(pa.float32())),
)
"""The matching forms standardize_product() outputs, in order, with their Arrow types (its
display values follow: `DISPLAY_COLUMNS`)."""

STANDARDIZED_COLUMNS = {
    "customer": STANDARDIZED_CUSTOMER_COLUMNS,
    "product": STANDARDIZED_PRODUCT_COLUMNS,
}


DISPLAY_COLUMNS: dict[str, tuple[tuple[str, pa.DataType], ...]] = {
    entity: tuple((display_column(a), pa.string()) for a in attributes)
    for entity, attributes in DISPLAY_ATTRIBUTES.items()
}
"""The display columns standardisation writes after the matching forms, in order. Apart from
`STANDARDIZED_COLUMNS`, which is what matching (blocking rules, comparisons) may read: people
read these, matching never does."""


def standardized_schema(entity: str) -> pa.Schema:
    return pa.schema(
        [*KEY_COLUMNS, *STANDARDIZED_COLUMNS[entity], *DISPLAY_COLUMNS[entity], *LINEAGE_COLUMNS]
    )


def raw_table_name(source: str, entity: SourceConfig | str) -> str:
    """The raw zone table one source lands into (`entity`: the source's, or its config)."""
    return f"{source}__{entity if isinstance(entity, str) else entity.entity}"


def quarantine_table_name(source: str) -> str:
    """The quarantine zone table of one source: its refused rows or messages, with reasons."""
    return source


def standardized_table_name(entity: str) -> str:
    """The standardized zone table of one entity: one row per source record."""
    return entity


MasterTable = Literal[
    "id_history", "xref", "golden", "pairs", "review_queue", "record_hashes", "scores"
]
MASTER_TABLES: tuple[MasterTable, ...] = (
    "id_history",  # every master id event: created, merged_into, split_from, retired
    "xref",  # source record -> master id
    "golden",  # one golden record per master, with provenance
    "pairs",  # scored record pairs
    "review_queue",  # pairs in the review band, for data stewards
    "record_hashes",  # what each record looked like to matching (incremental runs)
    "scores",  # every pair score the next run builds on (incremental runs)
)
PUBLISHED_MASTER_TABLES: tuple[MasterTable, ...] = ("golden", "xref", "id_history", "review_queue")
"""The master tables the warehouse loads for dbt."""


def master_table_name(entity: str, table: MasterTable) -> str:
    """One of an entity's master zone tables, e.g. `customer_golden`."""
    return f"{entity}_{table}"


CONFORMED_EVENTS = "events"
"""The conformed zone table of source events, carrying customer and product master ids."""
CONFORMED_EVENT_REJECTS = "event_rejects"
"""The conformed zone table of source events that could not be conformed, with the reason."""
