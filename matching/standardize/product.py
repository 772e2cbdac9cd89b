"""Product attributes: GTINs validated by their check digit, model numbers (given or read
from the title), colours, and the product's free text (title tokens, weighted tokens,
quantities, MinHash buckets) with brand, colour and stopwords left out.

The text features themselves (weighted tokens, quantities, brands from titles, embeddings,
LSH buckets) are `text_features`, `embeddings` and `lsh` beside this module: comparisons
use them too.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from matching.standardize import lsh, text_features
from matching.standardize.clean import (
    CACHE_SIZE,
    HAS_DIGIT_RE,
    as_str,
    clean_str,
    clean_text,
    words,
)


def gtin_check_digit_ok(digits: str) -> bool:
    """True when the last digit is the GS1 mod-10 check digit of the preceding ones."""
    if not isinstance(digits, str) or len(digits) < 2 or not digits.isdigit():
        return False
    if not digits.isascii():  # isdigit() also accepts e.g. superscripts
        return False
    body = digits[:-1]
    # Weights alternate 3,1,3,... starting from the digit next to the check digit.
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == int(digits[-1])


_GTIN_SEPARATORS_RE = re.compile(r"[\s\-.]+")


@lru_cache(maxsize=CACHE_SIZE)
def _gtin_str(s: str) -> str | None:
    digits = _GTIN_SEPARATORS_RE.sub("", s)
    # 8..14 rather than only 8/12/13/14: numeric typing (CSV, Excel) strips leading zeros
    # from UPC-A/EAN-13, and left-padding never changes the check digit.
    if not digits.isdigit() or not digits.isascii() or not 8 <= len(digits) <= 14:
        return None
    if not gtin_check_digit_ok(digits) or not digits.strip("0"):
        return None
    return digits.zfill(14)


def gtin(value: Any) -> str | None:
    """Check-digit-validated GTIN-8/12/13/14 as a zero-padded GTIN-14; invalid -> None."""
    s = as_str(value)
    return None if s is None else _gtin_str(s)


_MODEL_JUNK_RE = re.compile(r"[^A-Z0-9+]+")


@lru_cache(maxsize=CACHE_SIZE)
def _model_number_str(s: str) -> str | None:
    cleaned = clean_str(s)
    if cleaned is None or cleaned in _NO_MODEL:
        return None
    # "+" survives because it distinguishes real variants ("S21" vs "S21+").
    return _MODEL_JUNK_RE.sub("", cleaned.upper()) or None


# What shops write in a model-number field that has none: not a model number, or every
# such listing would "match" every other one on it (and mismatch every real code).
_NO_MODEL = frozenset(
    """
    does not apply | not applicable | n/a | na | none | null | unknown | not available | - |
    no | nil | tbc | tba | other | generic
    """.replace("\n", " ").split(" | ")
)
_NO_MODEL = frozenset(v.strip() for v in _NO_MODEL)


def model_number(value: Any) -> str | None:
    """Uppercase model number without spaces or separators ("X-200" -> "X200")."""
    s = as_str(value)
    return None if s is None else _model_number_str(s)


_TITLE_SPLIT_RE = re.compile(r"[\s,;:|()\[\]{}\"!?*]+")
_UNIT_RE = re.compile(
    r"""^(
        \d+(\.\d+)?(mm|cm|m|km|in|inch|inches|ft|ml|cl|dl|l|ltr|litre|liter|g|kg|mg|lb|lbs
            |oz|floz|gb|tb|mb|kb|mah|wh|w|kw|v|a|hz|khz|mhz|ghz|rpm|mp|k|p|x|fps|db|pcs|pc
            |pk|pack|ct|count|yr|yrs|year|years|hr|hrs|h|min|mins|s|sec|gen|st|nd|rd|th|pt
            |piece|pieces|sheets|rolls|cup|cups|qt|gal|in1|d)
        |x\d{1,2}
        |\d+x\d+(x\d+)?([a-z]{1,2})?
        |(gen|rev|pack|size|no)\d+
        |\d+-[a-z]{3,}
        |v\d(\.\d+)?
        |(uk|us|eu)\d{1,2}(\.\d)?
        |(usb|hdmi|ddr|lpddr|gddr|wifi|bt|ip|ipx|pcie|mp|dolby|atmos)\d+(\.\d+)?[a-z]?
        |h26[45]
        |\d+(\.\d+)?(g|gb)?(lte|5g|4g|3g)
        |802\.11[a-z]+
    )$""",
    re.VERBOSE,
)
_MODEL_SEPARATORS_RE = re.compile(r"[\-./_']")
_HAS_ALPHA_RE = re.compile(r"[a-z]")


@lru_cache(maxsize=CACHE_SIZE)
def _extract_model_number_str(title: str, brand: str | None) -> str | None:
    cleaned = clean_str(title)
    if cleaned is None:
        return None
    brand_tokens = set(brand.split()) if brand else set()
    best: tuple[int, int] | None = None
    best_token = ""
    for pos, raw in enumerate(_TITLE_SPLIT_RE.split(cleaned)):
        token = raw.strip(".-/'&#")
        compact = _MODEL_SEPARATORS_RE.sub("", token)
        if len(compact) < 3 or token in brand_tokens:
            continue
        if not (_HAS_ALPHA_RE.search(compact) and HAS_DIGIT_RE.search(compact)):
            continue
        if _UNIT_RE.match(token) or _UNIT_RE.match(compact):
            continue
        digits = sum(c.isdigit() for c in compact)
        # Longer codes with several digits, and codes written with a hyphen, are the
        # strongest model-number signals; ties go to the earlier token (usually right
        # after the brand).
        score = len(compact) + min(digits, 4) + (3 if "-" in token else 0)
        if best is None or score > best[0]:
            best, best_token = (score, -pos), token
    return _model_number_str(best_token) if best_token else None


def extract_model_number(title: Any, brand: Any = None) -> str | None:
    """Most model-number-like token of a product title ("Sony WH-1000XM4 ..." -> "WH1000XM4").

    Candidates mix letters and digits and are >= 3 characters; units and specs such as
    "500ml", "64GB", "4K", "55in", "2x" or "USB3" are ignored.
    """
    s = as_str(title)
    if s is None:
        return None
    return _extract_model_number_str(s, clean_text(brand))


_TITLE_STOPWORDS = words(
    """
    a an and the with without for of in on to by from at or plus new inc incl including
    edition version pack set item items
    """
)
_COLOUR_WORDS = words(
    """
    black white red blue green silver grey gray gold pink purple yellow orange brown beige
    navy cream ivory teal turquoise violet charcoal graphite bronze copper maroon burgundy
    khaki tan rose magenta cyan lilac lavender mint coral champagne multicolour multicolor
    colour color
    """
)
_COLOUR_SYNONYMS = {"gray": "grey", "multicolor": "multicolour", "colour": None, "color": None}
_COLOUR_PHRASES = {"rose gold": "rose gold", "space grey": "space grey",
                   "space gray": "space grey", "stainless steel": "stainless steel"}  # fmt: skip
# Catalogue colour codes, trusted only where codes sit: a model number's suffix (X200-BK) or
# the last word of a terse ERP title ("... SPKR BK"); elsewhere "BT" or "PK" mean other things.
_COLOUR_CODES = {
    "bk": "black", "wh": "white", "sv": "silver", "nv": "navy", "rg": "rose gold",
    "gy": "grey", "bl": "blue", "rd": "red", "sg": "space grey", "cr": "cream",
    "ss": "stainless steel", "pu": "purple", "pk": "pink", "gn": "green",
}  # fmt: skip


def colour(title: Any, model_number_raw: Any = None) -> str | None:
    """The product's colour from its title or a colour-code suffix of its model number.

    Colour tells apart variants that share a model number root (X200-BK vs X200-WH).
    """
    raw_model = as_str(model_number_raw)
    if raw_model is not None:
        suffix = re.split(r"[-/ ]", raw_model.strip().lower())[-1]
        if suffix in _COLOUR_CODES and suffix != raw_model.strip().lower():
            return _COLOUR_CODES[suffix]
    text = clean_text(title)
    if text is None:
        return None
    for phrase, canonical in _COLOUR_PHRASES.items():
        if phrase in text:
            return canonical
    tokens = _TITLE_TOKEN_RE.findall(text)
    for word in tokens:
        if word in _COLOUR_WORDS:
            found = _COLOUR_SYNONYMS.get(word, word)
            if found is not None:
                return found
    if tokens and tokens[-1] in _COLOUR_CODES:
        return _COLOUR_CODES[tokens[-1]]
    return None


_TITLE_TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-./][a-z0-9]+)*")
_TITLE_SEPARATORS_RE = re.compile(r"[-./]")


def title_tokens(
    title: str | None, brand: str | None, manufacturer: str | None, model: str | None = None
) -> str | None:
    """The distinct informative words of a clean_text() title, sorted, without the brand,
    the manufacturer, the model number, colours and stopwords."""
    if title is None:
        return None
    # Brand and model number are compared on their own: leaving them in the title tokens
    # would count the same evidence twice.
    brand_words = frozenset(
        w for b in (brand, manufacturer) if b for w in _TITLE_TOKEN_RE.findall(b)
    )
    tokens = {_TITLE_SEPARATORS_RE.sub("", t) for t in _TITLE_TOKEN_RE.findall(title)}
    model = (model or "").lower()
    informative = {
        t
        for t in tokens
        if len(t) > 1
        # the model number, or its root when the model carries a colour suffix (x200 / x200bk)
        and not (len(t) >= 3 and model.startswith(t))
        and t not in _TITLE_STOPWORDS
        and t not in _COLOUR_WORDS
        and t not in _COLOUR_CODES
        and t not in brand_words
    }
    return " ".join(sorted(informative)) or None


_LIST_SEPARATORS_RE = re.compile(r"[,;|/]+")


def first_gtin(value: Any) -> str | None:
    """The GTIN, or the first valid one of a field listing several ("0061..., 0088...")."""
    found = gtin(value)
    text_value = as_str(value)
    if found is not None or text_value is None:
        return found
    return next(
        (g for g in map(gtin, _LIST_SEPARATORS_RE.split(text_value)) if g is not None), None
    )


def _brand_words(*brands: str | None) -> frozenset[str]:
    return frozenset(w for b in brands if b for w in text_features.text_tokens(b))


def _informative(tokens: list[str], brand_words: frozenset[str]) -> list[str]:
    # Brand and colour have comparisons of their own; stopwords carry no evidence.
    return [
        t
        for t in tokens
        if t not in _TITLE_STOPWORDS
        and t not in _COLOUR_WORDS
        and t not in _COLOUR_CODES
        and t not in brand_words
    ]


def free_text_columns(
    title: str | None, description: str | None, brand: str | None, manufacturer: str | None
) -> dict[str, str | None]:
    """Weighted tokens of the title, of title and description, their quantities, and what
    their blocking keys hash (`lsh.blocking_keys`), space-joined: `lsh_words`, the title's
    weighted words (a listing without a title still meets its product by its description's),
    and `lsh_codes`, the model codes of both; the brand's and manufacturer's words left out."""
    brand_words = _brand_words(brand, manufacturer)
    title_words = _informative(text_features.text_tokens(title), brand_words)
    description_words = _informative(text_features.text_tokens(description), brand_words)
    all_words = title_words + description_words
    quantities = text_features.unit_tokens(title) + text_features.unit_tokens(description)
    return {
        "title_weighted": text_features.weighted_tokens(title_words),
        "text_tokens": text_features.weighted_tokens(all_words),
        "units": " ".join(dict.fromkeys(quantities)) or None,
        "lsh_words": text_features.weighted_tokens(title_words or description_words),
        "lsh_codes": " ".join(text_features.code_tokens(all_words)) or None,
    }


def free_text(
    title: str | None, description: str | None, brand: str | None, manufacturer: str | None
) -> dict[str, Any]:
    """`free_text_columns` with their blocking keys (`title_lsh`).

    The embedding is left empty here: it is computed for a batch at once
    (`standardize_products`).
    """
    columns = free_text_columns(title, description, brand, manufacturer)
    return {
        "title_weighted": columns["title_weighted"],
        "text_tokens": columns["text_tokens"],
        "units": columns["units"],
        "title_lsh": lsh.blocking_keys(columns["lsh_words"], columns["lsh_codes"]),
        "title_embedding": None,
    }
