"""The standardisers as vectorised UDFs: Arrow arrays in, one Arrow array out, callable by
name from the standardized zone's SQL on DuckDB and on Spark (`e360.dataflow`).

Each wraps the same per-value function the per-record path (`records`) calls, so both give
the same values; the zone's SQL calls them over the distinct values of a column, not over
every row. They live at module level: Spark workers import this module to run them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import phonenumbers
import pyarrow as pa

from e360.dataflow import Dataflow, RowWise, VectorisedUdf
from matching.standardize import embeddings, lsh, text_features
from matching.standardize.clean import clean_text, display_text, identifier
from matching.standardize.contact import email, phone_e164, phone_region
from matching.standardize.dates import date, timestamp
from matching.standardize.geo import address, country, postcode, postcode_area
from matching.standardize.money import currency, price
from matching.standardize.organisation import company_name, company_name_tokens
from matching.standardize.person import (
    gender,
    name,
    nickname_to_formal,
    phonetic_key,
    split_full_name_views,
)
from matching.standardize.product import (
    colour,
    extract_model_number,
    first_gtin,
    free_text_columns,
    model_number,
    title_tokens,
)
from matching.standardize.records import _brand_as_written, _name_sort

STRING = pa.string()


def strip_text(value: str | None) -> str | None:
    """A template part's value (`e360.mappings`): trimmed, None when blank."""
    return (value.strip() or None) if value is not None else None


def split_name_part(full_name: str | None, part: int) -> str | None:
    """Part `part` of a full name's split: 0-2 first/middle/last matching, 3-5 displayed."""
    split = split_full_name_views(full_name)
    return (split.matching + split.display)[part]


def customer_phone(
    value: str | None, country_code: str | None, default_region: str | None
) -> str | None:
    """E.164 phone, read in the record's own country where phonenumbers knows it."""
    region = country_code if country_code in phonenumbers.SUPPORTED_REGIONS else None
    return phone_e164(value, region or default_region)


def phone_country(e164: str | None) -> str | None:
    return None if e164 is None else phone_region(e164)


def nickname(value: str | None) -> str | None:
    return nickname_to_formal(value)


def brand_key(brand: str | None) -> str | None:
    """The key of a brand in a batch's brand vocabulary (`text_features.brand_vocabulary`)."""
    return " ".join(text_features.text_tokens(brand)) or None if brand else None


@lru_cache(maxsize=8)
def _parsed_pairs(text: str) -> dict[str, str]:
    return dict(json.loads(text))


def _vocabulary(text: str) -> dict[str, str]:
    return _parsed_pairs(text)


def brand_from_text(
    title: str | None, description: str | None, vocabulary: str, leading_token: bool
) -> str | None:
    """A brandless product's brand, from its title then its description (`records`)."""
    known = _vocabulary(vocabulary)
    return text_features.brand_from_title(
        title, known, leading_token=bool(leading_token)
    ) or text_features.brand_from_title(description, known, generic=False)


def brand_as_written(
    brand: str, title_display: str | None, description_display: str | None, shown: str
) -> str:
    """A found brand's display value; `shown`: JSON pairs, each brand as the data writes it."""
    product = {"title_display": title_display, "description_display": description_display}
    return _brand_as_written(brand, product, _vocabulary(shown).get(brand))


_FREE_TEXT = ("title_weighted", "text_tokens", "units", "lsh_words", "lsh_codes")


def free_text(
    title: str | None, description: str | None, brand: str | None, manufacturer: str | None
) -> list[str | None]:
    """free_text_columns in `_FREE_TEXT` order; the last two are what `e360_lsh` hashes."""
    columns = free_text_columns(title, description, brand, manufacturer)
    return [columns[c] for c in _FREE_TEXT]


def embedding_arrow(texts: pa.Array) -> pa.Array:
    """Title embeddings, one model call per batch (float64: exact copies of the float32s)."""
    return pa.array(embeddings.embed(texts.to_pylist()), pa.list_(pa.float64()))


def _udf(
    name_: str,
    function: Callable[..., Any],
    arguments: tuple[pa.DataType, ...] = (STRING,),
    returns: pa.DataType = STRING,
) -> VectorisedUdf:
    return VectorisedUdf(
        f"e360_{name_}", RowWise(function, returns), arguments, returns, offload=True
    )


S2 = (STRING, STRING)
UDFS: tuple[VectorisedUdf, ...] = (
    _udf("strip", strip_text),
    _udf("display", display_text),
    _udf("clean", clean_text),
    _udf("identifier", identifier),
    _udf("name", name),
    _udf("split_name", split_name_part, (STRING, pa.int64())),
    _udf("nickname", nickname),
    _udf("phonetic", phonetic_key),
    _udf("name_sort", _name_sort, S2),
    _udf("gender", gender),
    _udf("country", country),
    _udf("phone", customer_phone, (STRING, STRING, STRING)),
    _udf("phone_country", phone_country),
    _udf("email", email),
    _udf("postcode", postcode, S2),
    _udf("postcode_area", postcode_area, S2),
    _udf("date", date, (STRING, pa.bool_()), pa.date32()),
    _udf("timestamp", timestamp, (STRING,), pa.timestamp("us")),
    _udf("address", address),
    _udf("company", company_name),
    _udf("company_tokens", company_name_tokens),
    _udf("model_number", model_number),
    _udf("extract_model_number", extract_model_number, S2),
    _udf("first_gtin", first_gtin),
    _udf("price", price, (STRING,), pa.float64()),
    _udf("currency", currency),
    _udf("colour", colour, S2),
    _udf("title_tokens", title_tokens, (STRING,) * 4),
    _udf("brand_key", brand_key),
    _udf("brand_from_text", brand_from_text, (STRING, STRING, STRING, pa.bool_())),
    _udf("brand_as_written", brand_as_written, (STRING,) * 4),
    _udf("free_text", free_text, (STRING,) * 4, pa.list_(STRING)),
    _udf("lsh", lsh.blocking_keys, S2, pa.list_(STRING)),
    # Not offloaded: one numpy call per batch, and each worker would load the model again.
    VectorisedUdf("e360_embedding", embedding_arrow, (STRING,), pa.list_(pa.float64())),
)


def register_standardisers(flow: Dataflow) -> None:
    """Make every standardiser callable from the flow's SQL."""
    for udf in UDFS:
        flow.register_udf(udf)
