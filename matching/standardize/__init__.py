"""Standardisation: attribute values normalised once, before entity resolution.

One module per subject, in the order a record is read:

- `clean`: coercion of raw values, the clean-text form, identifiers (shared by all others)
- `person`: person names, nicknames, full names split, phonetic keys, gender
- `organisation`: company names
- `contact`: e-mail addresses, phone numbers
- `geo`: countries (the ISO table is the package data file `countries.json`), postcodes,
  address lines
- `dates`: dates and timestamps
- `money`: prices and currencies
- `product`: GTINs, model numbers, colours, product free text
- `records`: whole customer and product records, and product batches
- `vectorised`: the standardisers as Arrow UDFs for the zone's SQL
- `raw`: the newest landed version of every source key, as a dataflow relation
- `zone`: the standardized zone table, built from the raw zone

Every standardiser takes any raw value and returns the normalised value or None; none
raises on bad data. This module exports the standardisers other layers use.
"""

from __future__ import annotations

from matching.standardize.clean import clean_text
from matching.standardize.contact import email, phone
from matching.standardize.dates import date, timestamp
from matching.standardize.geo import country, postcode
from matching.standardize.money import currency, price
from matching.standardize.organisation import company_name, company_name_tokens
from matching.standardize.person import (
    first_name_canonical,
    gender,
    name,
    phonetic,
    split_full_name,
)
from matching.standardize.product import (
    colour,
    extract_model_number,
    gtin,
    gtin_check_digit_ok,
    model_number,
)
from matching.standardize.records import (
    complete_products,
    standardize_customer,
    standardize_product,
    standardize_products,
)

__all__ = [
    "clean_text",
    "colour",
    "company_name",
    "company_name_tokens",
    "complete_products",
    "country",
    "currency",
    "date",
    "email",
    "extract_model_number",
    "first_name_canonical",
    "gender",
    "gtin",
    "gtin_check_digit_ok",
    "model_number",
    "name",
    "phone",
    "phonetic",
    "postcode",
    "price",
    "split_full_name",
    "standardize_customer",
    "standardize_product",
    "standardize_products",
    "timestamp",
]
