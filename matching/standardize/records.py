"""Whole records: one customer or product record's canonical attributes standardised into
the columns of the standardized zone (`e360.zones`), and what a batch of products needs
beyond each record (brands read from titles, title embeddings)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import phonenumbers

from e360.zones import DISPLAY_ATTRIBUTES, display_column
from matching.standardize import embeddings, text_features
from matching.standardize.clean import clean_text, display_text, identifier
from matching.standardize.contact import email, phone_e164, phone_region
from matching.standardize.dates import date
from matching.standardize.geo import address, country, postcode, postcode_area
from matching.standardize.money import currency, price
from matching.standardize.nicknames import NICKNAMES
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
    free_text,
    model_number,
    title_tokens,
)


def _name_sort(first: str | None, last: str | None) -> str | None:
    # Nicknames are mapped in every position: when first and last are swapped the
    # nickname sits in the last-name slot, where first-name canonicalisation never ran.
    tokens = [NICKNAMES.get(t, t) for part in (first, last) if part for t in part.split()]
    return " ".join(sorted(tokens)) or None


# Name parts' display values follow the parts (a full name split fills them); every other
# display value is its own column's.
_NAME_PARTS = ("first_name", "middle_name", "last_name", "full_name")
_CUSTOMER_OWN_DISPLAYS = tuple(a for a in DISPLAY_ATTRIBUTES["customer"] if a not in _NAME_PARTS)


def _shown(display: str | None, standardised: Any) -> str | None:
    """The display value beside a standardised one: none without one (so a golden record's
    display value always comes with its standardised value), the standardised form where
    nothing readable was written."""
    if standardised is None:
        return None
    return display or str(standardised)


def _own_displays(
    record: Mapping[str, Any], standardised: Mapping[str, Any], attributes: Sequence[str]
) -> dict[str, str | None]:
    """Display values of attributes read from their own column alone."""
    return {
        display_column(a): _shown(display_text(record.get(a)), standardised[a]) for a in attributes
    }


def standardize_customer(
    record: Mapping[str, Any], default_region: str = "GB", dayfirst: bool = True
) -> dict[str, Any]:
    """Standardise one customer record's canonical attributes (any may be missing).

    Returns exactly the keys of `e360.zones.STANDARDIZED_CUSTOMER_COLUMNS` (the matching
    forms), then of `e360.zones.DISPLAY_COLUMNS["customer"]` (the display values), in order.
    `default_region` is used to read national-format phone numbers when the record has
    no recognisable country.
    """
    get = record.get

    first_raw = name(get("first_name"))
    middle = name(get("middle_name"))
    last = name(get("last_name"))
    # Display values of the name parts follow the parts: from their own column, else from
    # the full name split the same way.
    shown = [
        _shown(display_text(get(a)), v)
        for a, v in (("first_name", first_raw), ("middle_name", middle), ("last_name", last))
    ]
    if first_raw is None or last is None:
        # One split, two views: a part's display is its own writing, never its matching form.
        split = split_full_name_views(get("full_name"))
        parts = [first_raw, middle, last]
        for i, part in enumerate(parts):
            if part is None and split.matching[i] is not None:
                parts[i] = split.matching[i]
                shown[i] = split.display[i]
        first_raw, middle, last = parts
    first = nickname_to_formal(first_raw)
    full = " ".join(p for p in (first, middle, last) if p) or None

    country_code = country(get("country"))
    # A national-format number is far more likely to belong to the customer's own country
    # than to the batch default.
    region = country_code if country_code in phonenumbers.SUPPORTED_REGIONS else None
    phone_number = phone_e164(get("phone"), region or default_region)
    if country_code is None and phone_number is not None:
        country_code = phone_region(phone_number)

    email_value = email(get("email"))
    pc = postcode(get("postcode"), country_code)
    dob = date(get("date_of_birth"), dayfirst=dayfirst)
    company = company_name(get("company_name"))

    out = {
        "first_name": first,
        "first_name_raw": first_raw,
        "middle_name": middle,
        "last_name": last,
        "full_name": full,
        "date_of_birth": dob,
        "gender": gender(get("gender")),
        "email": email_value,
        "phone": phone_number,
        "address_line1": address(get("address_line1")),
        "address_line2": address(get("address_line2")),
        "city": clean_text(get("city")),
        "postcode": pc,
        "region": clean_text(get("region")),
        "country": country_code,
        "national_id": identifier(get("national_id")),
        "email_user": None if email_value is None else email_value.split("@", 1)[0],
        "postcode_area": postcode_area(pc, country_code),
        "dob_year": None if dob is None else dob.year,
        "name_sort": _name_sort(first, last),
        "first_name_phonetic": phonetic_key(first),
        "last_name_phonetic": phonetic_key(last),
        "company_name": company,
        "company_name_tokens": company_name_tokens(company),
        "first_name_display": shown[0],
        "middle_name_display": shown[1],
        "last_name_display": shown[2],
        "full_name_display": " ".join(p for p in shown if p) or None,
    }
    out.update(_own_displays(record, out, _CUSTOMER_OWN_DISPLAYS))
    return out


def standardize_product(record: Mapping[str, Any]) -> dict[str, Any]:
    """Standardise one product record's canonical attributes (any may be missing).

    Returns exactly the keys of `e360.zones.STANDARDIZED_PRODUCT_COLUMNS` (the matching
    forms), then of `e360.zones.DISPLAY_COLUMNS["product"]` (the display values), in order.
    """
    get = record.get

    title = clean_text(get("title"))
    brand = clean_text(get("brand"))
    manufacturer = clean_text(get("manufacturer"))

    model = model_number(get("model_number"))
    from_title = False
    if model is None and title is not None:
        model = extract_model_number(title, brand)
        from_title = model is not None

    raw_price = get("price")
    currency_code = currency(get("currency"))
    if currency_code is None and isinstance(raw_price, str):
        currency_code = currency(raw_price)  # "£12.99" carries its own currency

    out = {
        "title": title,
        "brand": brand,
        "manufacturer": manufacturer,
        "model_number": model,
        "gtin": first_gtin(get("gtin")),
        "sku": identifier(get("sku")),
        "category": clean_text(get("category")),
        "description": clean_text(get("description")),
        "price": price(raw_price),
        "currency": currency_code,
        "model_number_from_title": from_title,
        "title_tokens": title_tokens(title, brand, manufacturer, model),
        "colour": colour(title, get("model_number")),
        **free_text(title, clean_text(get("description")), brand, manufacturer),
    }
    out.update(_own_displays(record, out, DISPLAY_ATTRIBUTES["product"]))
    return out


def standardize_products(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Standardise a batch of product records: `standardize_product` for each, then what
    needs the batch: the brand read from the title where there is no brand (brands the
    batch's own brand column names first; the title's first word only when no record has a
    brand at all), and the title embeddings, in one model call."""
    out = [standardize_product(r) for r in records]
    complete_products(out)
    return out


def complete_products(products: list[dict[str, Any]]) -> None:
    """Fill, in place, the batch-level columns of standardised products (see above)."""
    vocabulary = text_features.brand_vocabulary(p["brand"] for p in products)
    no_brand_column = not vocabulary
    shown_brands: dict[str, str] = {}
    for product in products:
        if product["brand"] is not None and product["brand_display"] is not None:
            shown_brands.setdefault(product["brand"], product["brand_display"])
    for product in products:
        if product["brand"] is not None:
            continue
        product["brand"] = text_features.brand_from_title(
            product["title"], vocabulary, leading_token=no_brand_column
        ) or text_features.brand_from_title(product["description"], vocabulary, generic=False)
        if product["brand"] is not None:
            product["brand_display"] = _brand_as_written(
                product["brand"], product, shown_brands.get(product["brand"])
            )
            product.update(
                free_text(
                    product["title"],
                    product["description"],
                    product["brand"],
                    product["manufacturer"],
                )
            )
    vectors = embeddings.embed([_embedding_text(p) for p in products])
    for product, vector in zip(products, vectors, strict=True):
        product["title_embedding"] = vector


def _brand_as_written(brand: str, product: Mapping[str, Any], elsewhere: str | None) -> str:
    """The display value of a brand read from a product's title or description: the words of
    the title (then description) that name it, as written; else how the batch's brand column
    writes it; else the brand's matching form."""
    wanted = text_features.text_tokens(brand)
    for text in (product["title_display"], product["description_display"]):
        words = (text or "").split()
        for start in range(len(words)):
            for end in range(start + 1, min(start + len(wanted), len(words)) + 1):
                candidate = " ".join(words[start:end]).strip(_EDGE_PUNCTUATION)
                if candidate and text_features.text_tokens(clean_text(candidate)) == wanted:
                    return candidate
    return elsewhere or brand


_EDGE_PUNCTUATION = '.,;:|()[]{}"!?*'


def _embedding_text(product: Mapping[str, Any]) -> str | None:
    title = product["title"]
    if title is None:
        return None
    brand = product["brand"]
    return title if not brand or brand in title else f"{brand} {title}"
