"""What a value looks like: an e-mail, a phone number, a date, a GTIN, a person's name, ...

Each recogniser takes one value as the landing file spells it (text: the readers keep values
as received) and answers yes or no. They reuse the standardizers where one exists (a value the
standardizer cannot read would be lost in matching anyway) and add the shapes standardizers
never need to tell apart (an identifier, a name, free text). A column's profile is the share of
its values each recogniser accepts.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from matching.standardize.contact import email, phone
from matching.standardize.dates import date, timestamp
from matching.standardize.geo import country
from matching.standardize.money import currency
from matching.standardize.person import gender
from matching.standardize.product import gtin_check_digit_ok

_TIME_RE = re.compile(r"\d[T ]\d{1,2}:\d{2}")
_DATE_ONLY_RE = re.compile(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}$|^\d{8}$")
_DMY_RE = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.]\d{4}$")
_POSTCODE_RES = (
    re.compile(r"^[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}$"),  # GB
    re.compile(r"^\d{5}(-\d{4})?$"),  # US ZIP, DE, FR, ES, IT
    re.compile(r"^\d{4} ?[A-Z]{2}$"),  # NL
    re.compile(r"^[A-Z]\d[A-Z] ?\d[A-Z]\d$"),  # CA
    re.compile(r"^[A-Z]\d{2} ?[A-Z\d]{4}$"),  # IE Eircode
)
_GTIN_JUNK_RE = re.compile(r"[\s-]")
_NUMBER_RE = re.compile(r"^[-+]?\d+([.,]\d+)?$")
_INTEGER_RE = re.compile(r"^[-+]?\d+$")
_PRICE_RE = re.compile(r"^[-+]?[£$€]?\s?\d{1,9}([.,]\d{1,2})?$")
_APOSTROPHES = "'\u2019"  # O'Brien, typed or typeset
_NAME_WORD = rf"[^\W\d_][^\W\d_{_APOSTROPHES}.-]*(?:[{_APOSTROPHES}-][^\W\d_]+)*\.?"
_NAME_PART_RE = re.compile(rf"^{_NAME_WORD}$")
_FULL_NAME_RE = re.compile(rf"^{_NAME_WORD}(?:,? {_NAME_WORD}){{1,3}}$")
_IDENTIFIER_RE = re.compile(r"^[\w.:/#-]{1,64}$")
_HAS_DIGIT_RE = re.compile(r"\d")
_HAS_LETTER_RE = re.compile(r"[^\W\d_]")
_ADDRESS_RE = re.compile(r"^(\d+[a-z]?[,/-]?\s+\S|flat\s|apt\.?\s|unit\s)", re.IGNORECASE)
_CATEGORY_RE = re.compile(r"\S\s*(>|/|\|)\s*\S")


def is_email(value: str) -> bool:
    return "@" in value and email(value) is not None


def is_phone(value: str) -> bool:
    # A bare run of digits is as likely an id or a GTIN as a number someone dials.
    if value.isdigit() and not value.startswith("0"):
        return False
    return phone(value, "GB") is not None


def is_timestamp(value: str) -> bool:
    return bool(_TIME_RE.search(value)) and timestamp(value) is not None


def is_date(value: str) -> bool:
    return bool(_DATE_ONLY_RE.match(value.strip())) and date(value) is not None


def is_postcode(value: str) -> bool:
    compact = " ".join(value.upper().split())
    return any(pattern.match(compact) for pattern in _POSTCODE_RES)


def is_gtin(value: str) -> bool:
    digits = _GTIN_JUNK_RE.sub("", value)
    return digits.isdigit() and len(digits) in (8, 12, 13, 14) and gtin_check_digit_ok(digits)


def is_price(value: str) -> bool:
    return bool(_PRICE_RE.match(value.strip()))


def is_decimal(value: str) -> bool:
    """A number with a fraction (an amount, a price), not a count."""
    return bool(_NUMBER_RE.match(value.strip())) and not _INTEGER_RE.match(value.strip())


def is_integer(value: str) -> bool:
    return bool(_INTEGER_RE.match(value.strip()))


def is_currency(value: str) -> bool:
    return len(value.strip()) <= 4 and currency(value) is not None


def is_country(value: str) -> bool:
    return country(value) is not None


def is_gender(value: str) -> bool:
    return gender(value) is not None


def is_name_part(value: str) -> bool:
    """One name: letters, with the apostrophes and hyphens names carry (O'Brien, Smith-Jones)."""
    return len(value) <= 40 and bool(_NAME_PART_RE.match(value.strip()))


def is_full_name(value: str) -> bool:
    """Two to four name words, or `Surname, Forename`."""
    return len(value) <= 80 and bool(_FULL_NAME_RE.match(" ".join(value.split())))


def is_identifier(value: str) -> bool:
    """A code: no spaces, at least one digit (C000101, SKU-4003, 40000010, a UUID)."""
    return bool(_IDENTIFIER_RE.match(value)) and bool(_HAS_DIGIT_RE.search(value))


def is_text(value: str) -> bool:
    """Words (at least two), with letters."""
    return " " in value.strip() and bool(_HAS_LETTER_RE.search(value))


def is_word(value: str) -> bool:
    """A short label of letters, no digits: a brand, a town, a status."""
    return (
        len(value) <= 60
        and bool(_HAS_LETTER_RE.search(value))
        and not _HAS_DIGIT_RE.search(value)
        and "@" not in value
    )


def is_address(value: str) -> bool:
    """A street line: a house number and a street (12 High St, Flat 3 ...)."""
    return bool(_ADDRESS_RE.match(value.strip()))


def is_category(value: str) -> bool:
    """A path through a category tree (Computing > Laptops)."""
    return bool(_CATEGORY_RE.search(value)) and not _HAS_DIGIT_RE.search(value)


def day_first(value: str) -> bool | None:
    """True when a dd/mm/yyyy date can only be day-first, False when only month-first."""
    m = _DMY_RE.match(value.strip())
    if not m:
        return None
    first, second = int(m.group(1)), int(m.group(2))
    if first > 12 >= second:
        return True
    if second > 12 >= first:
        return False
    return None


KINDS: dict[str, Callable[[str], bool]] = {
    "email": is_email,
    "phone": is_phone,
    "timestamp": is_timestamp,
    "date": is_date,
    "postcode": is_postcode,
    "gtin": is_gtin,
    "price": is_price,
    "decimal": is_decimal,
    "integer": is_integer,
    "currency": is_currency,
    "country": is_country,
    "gender": is_gender,
    "name_part": is_name_part,
    "full_name": is_full_name,
    "identifier": is_identifier,
    "text": is_text,
    "word": is_word,
    "address": is_address,
    "category": is_category,
}
"""Every recogniser by kind; a column profile holds the share of values each accepts."""
