"""Places: countries to ISO 3166-1 alpha-2 (the country table and its aliases are the package
data file `countries.json`, read once), postcodes per country and their postal areas, and
address lines with their common abbreviations."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from matching.standardize.clean import CACHE_SIZE, HAS_DIGIT_RE, as_str, clean_str


def _load_countries() -> tuple[list[tuple[str, str, str]], dict[str, str]]:
    """ISO 3166-1 rows (alpha-2, alpha-3, short English name) and the aliases (in
    `_country_key()` form, to alpha-2 codes) of `countries.json`."""
    data = json.loads(
        resources.files("matching.standardize").joinpath("countries.json").read_text("utf-8")
    )
    rows = [(alpha2, alpha3, name) for alpha2, alpha3, name in data["countries"]]
    aliases = {key: alpha2 for group in data["aliases"].values() for key, alpha2 in group.items()}
    return rows, aliases


_COUNTRY_PUNCT_RE = re.compile(r"[^a-z0-9\s]+")


def _country_key(cleaned: str) -> str:
    s = cleaned.replace("&", " and ").replace("'", "")
    s = _COUNTRY_PUNCT_RE.sub(lambda m: "" if m.group() == "." else " ", s)
    tokens = s.split()
    if tokens and tokens[0] == "the" and len(tokens) > 1:
        tokens = tokens[1:]
    return " ".join(tokens)


def _build_country_lookup(
    countries: list[tuple[str, str, str]], aliases: dict[str, str]
) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for alpha2, alpha3, country_name in countries:
        lookup[alpha2.lower()] = alpha2
        lookup[alpha3.lower()] = alpha2
        cleaned = clean_str(country_name)
        if cleaned:
            lookup[_country_key(cleaned)] = alpha2
    lookup.update(aliases)
    return lookup


_COUNTRIES, _COUNTRY_ALIASES = _load_countries()
_COUNTRY_LOOKUP = _build_country_lookup(_COUNTRIES, _COUNTRY_ALIASES)
_ALPHA2 = frozenset(a2 for a2, _, _ in _COUNTRIES)


@lru_cache(maxsize=4096)
def _country_str(s: str) -> str | None:
    cleaned = clean_str(s)
    if cleaned is None:
        return None
    key = _country_key(cleaned)
    found = _COUNTRY_LOOKUP.get(key)
    if found is None and len(key) > 2:
        # "St Lucia" / "St. Kitts": only for names, since "st" alone is Sao Tome's code.
        found = _COUNTRY_LOOKUP.get(" ".join("saint" if t == "st" else t for t in key.split()))
    return found


def country(value: Any) -> str | None:
    """ISO 3166-1 alpha-2 code from a code, English name or common variant; unknown -> None."""
    s = as_str(value)
    return None if s is None else _country_str(s)


_UK_POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_US_ZIP_RE = re.compile(r"^(\d{5})(?:-?\d{4})?$")
# Crown dependencies use the UK postcode system.
_UK_POSTCODE_COUNTRIES = frozenset({"GB", "GG", "JE", "IM"})


@lru_cache(maxsize=CACHE_SIZE)
def _postcode_str(s: str, country_code: str | None) -> str | None:
    s = " ".join(s.upper().split())
    if not s:
        return None
    compact = s.replace(" ", "")
    if country_code in _UK_POSTCODE_COUNTRIES or country_code is None:
        m = _UK_POSTCODE_RE.match(compact)
        if m:
            return f"{m.group(1)} {m.group(2)}"
        if compact == "GIR0AA":  # the one historic code outside the general pattern
            return "GIR 0AA"
        if country_code is not None:
            return None
    if country_code == "US":
        compact = compact.replace("-", "")
        if compact.isdigit() and len(compact) == 4:
            # Spreadsheet/int round-trips strip the leading zeros of New England ZIPs.
            compact = compact.zfill(5)
        m = _US_ZIP_RE.match(compact)
        return m.group(1) if m else None
    # Every modern postal code system uses digits; digit-free values are placeholders
    # ("N/A", "UNKNOWN") that would otherwise agree with each other during matching.
    return s if HAS_DIGIT_RE.search(s) else None


def postcode(value: Any, country: Any = None) -> str | None:
    """Normalised postcode for the given country (any form country() accepts).

    GB: "SW1A 1AA" format, anything else -> None. US: 5-digit ZIP. Others: uppercase with
    collapsed whitespace (None without any digit). With no country, UK-shaped codes are
    still formatted.
    """
    s = as_str(value)
    if s is None:
        return None
    return _postcode_str(s, _country_arg(country))


def _country_arg(value: Any) -> str | None:
    if isinstance(value, str) and value in _ALPHA2:  # already standardised: skip the cache
        return value
    return country(value)


_ADDRESS_ABBREVIATIONS: dict[str, str] = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "lane": "ln",
    "drive": "dr",
    "court": "ct",
    "place": "pl",
    "crescent": "cres",
    "terrace": "ter",
    "square": "sq",
    "boulevard": "blvd",
    "gardens": "gdns",
    "apartment": "flat",
    "apt": "flat",
}
_ADDRESS_PUNCT_RE = re.compile(r"[^a-z0-9\s/-]+")


@lru_cache(maxsize=CACHE_SIZE)
def _address_str(s: str) -> str | None:
    cleaned = clean_str(s)
    if cleaned is None:
        return None
    cleaned = _ADDRESS_PUNCT_RE.sub(lambda m: "" if m.group() == "'" else " ", cleaned)
    tokens = [_ADDRESS_ABBREVIATIONS.get(t, t) for t in cleaned.split()]
    return " ".join(tokens) or None


def address(value: Any) -> str | None:
    """An address line for matching: clean text, punctuation dropped, street types and flat
    words abbreviated one way ("Road" -> "rd", "Apartment" -> "flat")."""
    s = as_str(value)
    return None if s is None else _address_str(s)


# Where a country's postal area is not its codes' first three characters (ZIP3 in the US,
# the FSA in Canada, the routing key of an Eircode, a German or Australian delivery region).
_POSTCODE_AREA_LENGTH = {"NL": 4}
_POSTCODE_SEPARATORS_RE = re.compile(r"[\s\-.]+")


def postcode_area(pc: str | None, country_code: str | None) -> str | None:
    """The postcode's area, the part a small typo or a move within the town keeps: the
    outward code of a UK postcode, else the country's prefix of the code."""
    if pc is None:
        return None
    if " " in pc and (country_code in _UK_POSTCODE_COUNTRIES or country_code is None):
        outward = pc.split(" ", 1)[0]
        if _UK_POSTCODE_RE.match(pc.replace(" ", "")):
            return outward
    length = _POSTCODE_AREA_LENGTH.get(country_code or "", 3)
    return _POSTCODE_SEPARATORS_RE.sub("", pc)[:length] or None
