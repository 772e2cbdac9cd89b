"""The registry of zone tables: what each zone's tables are called and what they hold.

Every layer reads and writes the lake through these names and schemas, so a table's name is
built in one place: `raw.<source>__<entity>` (one per source), `standardized.<entity>_records`
with the columns below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
"""Output keys of standardize_customer(), in order, with their Arrow types."""

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
    # Free-text evidence (matching.text, matching.lsh, matching.embeddings).
    ("title_weighted", pa.string()),
    ("text_tokens", pa.string()),
    ("units", pa.string()),
    ("title_lsh", pa.list_(pa.string())),
    ("title_embedding", pa.list_(pa.float32())),
)
"""Output keys of standardize_product(), in order, with their Arrow types."""

STANDARDIZED_COLUMNS = {
    "customer": STANDARDIZED_CUSTOMER_COLUMNS,
    "product": STANDARDIZED_PRODUCT_COLUMNS,
}


def standardized_schema(entity: str) -> pa.Schema:
    return pa.schema([*KEY_COLUMNS, *STANDARDIZED_COLUMNS[entity], *LINEAGE_COLUMNS])


def raw_table_name(source: str, source_config: SourceConfig) -> str:
    """The raw zone table one source lands into."""
    return f"{source}__{source_config.entity}"
