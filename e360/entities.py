"""The entities e360 knows and their canonical attributes (a source maps its columns onto these)."""

from __future__ import annotations

from typing import Literal, TypeGuard

MasteredEntity = Literal["customer", "product"]

CANONICAL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "customer": (
        "first_name",
        "middle_name",
        "last_name",
        "full_name",
        "date_of_birth",
        "gender",
        "email",
        "phone",
        "address_line1",
        "address_line2",
        "city",
        "postcode",
        "region",
        "country",
        "national_id",
        # Organisation customers (B2B accounts): the account's legal or trading name.
        "company_name",
    ),
    "product": (
        "title",
        "brand",
        "manufacturer",
        "model_number",
        "gtin",
        "sku",
        "category",
        "description",
        "price",
        "currency",
    ),
    "event": (
        "event_id",
        "event_type",
        "occurred_at",
        "customer_ref",
        "product_ref",
        "quantity",
        "amount",
        "currency",
        "channel",
    ),
}

MASTERED_ENTITIES: tuple[MasteredEntity, ...] = ("customer", "product")


def is_mastered(entity: str) -> TypeGuard[MasteredEntity]:
    """True for an entity e360 matches into masters (a name given on the command line or in a
    URL becomes a key of `E360Config.entities` this way)."""
    return entity in MASTERED_ENTITIES


# Master ids are opaque: a prefix per entity plus a ULID, never a member record's key.
DEFAULT_ID_PREFIX = {"customer": "CUS", "product": "PRD"}

CONFORMED_EVENT_TYPES = ("purchase", "order_cancelled", "product_view", "add_to_cart")


def record_id(source: str, source_key: str) -> str:
    """The lake-wide identity of one source record."""
    return f"{source}:{source_key}"


# Columns every standardized record carries beside its attributes (`matching.standardize.zone`
# builds its schema from the same names): configuration checks bind SQL fragments to them.
RECORD_KEY_COLUMNS: tuple[str, ...] = ("record_id", "source", "source_key")
RECORD_LINEAGE_COLUMNS: tuple[str, ...] = ("source_updated_at", "_batch_id", "_ingested_at")
