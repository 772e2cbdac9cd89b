"""Product free text as evidence: normalised tokens, unit tokens, fixed token weights, brands.

Token weights are an IDF that does not depend on the data being matched. The embedding
model's tokenizer (wordllama's, inside its wheel) ranks its vocabulary by how often pieces
occur in a large general corpus; by Zipf's law a piece of rank r has probability ~ 1/r, so
a word split into pieces p1..pk carries about sum(log r_i) bits of self-information: "with"
or "black" are one frequent piece, a model code such as "wh1000xm4" is many rare ones. That
is what document frequency estimates, but frozen: a pair's score depends on the pair alone,
so an incremental run keeps old scores without freezing a frequency table with the model,
and every record can be weighted at standardisation, one at a time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

# Units as written -> canonical unit. A number glued to or followed by one of these is one
# token ("16 GB", "16GB" and "16-gb" are all "16gb"): a different memory size or screen size
# is another product, whatever the wording around it.
_UNITS = {
    "gb": "gb", "gig": "gb", "gigs": "gb", "tb": "tb", "mb": "mb",
    "mah": "mah", "mp": "mp", "megapixel": "mp", "megapixels": "mp",
    "in": "in", "inch": "in", "inches": "in", '"': "in", "''": "in", "”": "in",
    "cm": "cm", "mm": "mm", "hz": "hz", "khz": "khz", "mhz": "mhz", "ghz": "ghz",
    "w": "w", "watt": "w", "watts": "w", "v": "v", "kg": "kg", "g": "g", "ml": "ml",
    "l": "l", "db": "db", "ohm": "ohm", "ohms": "ohm", "p": "p", "k": "k", "mw": "mw",
}  # fmt: skip
_QUOTES = {'"', "''", "”"}
_SPACED_UNITS = "|".join(
    re.escape(u) for u in sorted(_UNITS, key=len, reverse=True) if len(u) > 1 and u not in _QUOTES
)
_GLUED_UNITS = "|".join(u for u in _UNITS if len(u) == 1 and u not in _QUOTES)
# A number and a unit not followed by a letter or digit: a unit of two or more letters may
# stand apart ("16 GB"); a one-letter unit must be glued ("4K", "1080p"), or "SE 425 K"
# would be a quantity.
_QUANTITY_RE = re.compile(
    rf"(?<![a-z0-9.])(\d+(?:[.,]\d+)?)(?:\s?-?\s?({_SPACED_UNITS})(?![a-z0-9])"
    rf"|({_GLUED_UNITS})(?![a-z0-9])|(\"|''|”))"
)
_WORD_RE = re.compile(r"[a-z0-9]+(?:[-./+][a-z0-9]+)*\+?")
_SEPARATORS_RE = re.compile(r"[-./]")
_URL_NOISE_RE = re.compile(r"https?://[^/\s]+|\.(?:html?|php|aspx?)\b|[?#].*$")


def _number(text: str) -> str:
    value = text.replace(",", ".")
    if "." in value:
        value = value.rstrip("0").rstrip(".")
    return value


# "p" and "k" are quantities only as video resolutions: "1080p", "4k", not "nexus 6p".
_RESOLUTIONS = {"p": {"240", "360", "480", "576", "720", "1080", "1440", "2160"}, "k": set("2458")}


def _quantity(match: re.Match[str]) -> str | None:
    number, spaced, glued, quote = match.groups()
    unit = _UNITS[spaced or glued or quote]
    if unit in _RESOLUTIONS and number not in _RESOLUTIONS[unit]:
        return None
    return _number(number) + unit


def unit_tokens(text: str | None) -> list[str]:
    """Quantities of a text as canonical tokens, in order: '16 GB, 5.5"' -> [16gb, 5.5in]."""
    if not text:
        return []
    found = (_quantity(m) for m in _QUANTITY_RE.finditer(text.lower()))
    return list(dict.fromkeys(q for q in found if q))


def unit_kind(token: str) -> str:
    """The unit of a unit token ("16gb" -> "gb")."""
    return token.lstrip("0123456789.")


def _glue_quantities(text: str) -> str:
    return _QUANTITY_RE.sub(lambda m: f" {_quantity(m) or m.group(0)} ", text)


def text_tokens(text: str | None) -> list[str]:
    """Lower-case word tokens, quantities glued to their unit ("16 GB" -> "16gb"), URL hosts
    and query strings dropped (a shop's URL slug names the product), order kept, no
    duplicates. A code written with separators gives its parts and, when it mixes letters
    and digits, the glued code too ("WH-1000XM4" -> "wh", "1000xm4", "wh1000xm4"), so it
    meets both spellings; long digit runs (item ids) are dropped."""
    if not text:
        return []
    lowered = _URL_NOISE_RE.sub(" ", text.lower())
    lowered = _glue_quantities(lowered.replace("_", " "))
    tokens = []
    for word in _WORD_RE.findall(lowered):
        if _QUANTITY_TOKEN_RE.fullmatch(word) or _DECIMAL_RE.fullmatch(word):
            tokens.append(word)  # 5.5in and 5.5 keep their decimal point
            continue
        parts = [p for p in _SEPARATORS_RE.split(word) if p]
        tokens.extend(parts)
        glued = "".join(parts)
        if 1 < len(parts) <= 3 and _is_code(glued):
            tokens.append(glued)
    return list(
        dict.fromkeys(t for t in _with_spaced_codes(tokens) if not _ITEM_ID_RE.fullmatch(t))
    )


def code_tokens(tokens: Iterable[str]) -> list[str]:
    """The model codes among `tokens`, order kept, no duplicates: tokens of three characters or
    more that mix letters and digits and are not quantities ("k712", "wh1000xm4"; not "16gb",
    "5.5in", "x2")."""
    return list(
        dict.fromkeys(
            t for t in tokens if len(t) >= 3 and _is_code(t) and not _QUANTITY_TOKEN_RE.fullmatch(t)
        )
    )


def _is_code(token: str) -> bool:
    return bool(_HAS_DIGIT_RE.search(token) and _HAS_ALPHA_RE.search(token))


def _with_spaced_codes(tokens: list[str]) -> list[str]:
    """A short letter prefix written apart from its number ("SE 425", "K 712") is also
    given glued, as the other spelling of the code ("se425")."""
    out = []
    for i, token in enumerate(tokens):
        out.append(token)
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token.isalpha() and len(token) <= 3 and after[:1].isdigit() and "." not in after:
            out.append(token + after)
    return out


_QUANTITY_TOKEN_RE = re.compile(
    rf"\d+(?:\.\d+)?(?:{'|'.join(sorted(set(_UNITS.values()), key=len, reverse=True))})"
)
_DECIMAL_RE = re.compile(r"\d+\.\d+")
_HAS_DIGIT_RE = re.compile(r"\d")
_HAS_ALPHA_RE = re.compile(r"[a-z]")
_ITEM_ID_RE = re.compile(r"\d{7,}")


@cache
def _tokenizer() -> Any:
    """wordllama's tokenizer, from the files inside its wheel (never a download)."""
    import wordllama
    from tokenizers import Tokenizer

    folder = Path(wordllama.__file__).parent / "tokenizers"
    candidates = sorted(folder.glob("*.json"))
    if not candidates:  # pragma: no cover - the wheel always ships one
        raise RuntimeError(f"no tokenizer file in {folder}")
    return Tokenizer.from_file(str(candidates[0]))


# Bits of a typical frequent word piece: a word weighs its information in these units, so
# common words weigh 1 and a long, rare code up to _MAX_WEIGHT.
_BITS_PER_UNIT = 2 * math.log2(4000)
_MAX_WEIGHT = 4


@lru_cache(maxsize=1 << 16)
def token_information(token: str) -> float:
    """Self-information (bits) of a token under the tokenizer's Zipf-ranked vocabulary."""
    pieces = _tokenizer().encode(token, add_special_tokens=False).ids
    # Single characters and bytes sit at the end of the vocabulary: rank them by the count
    # of the alphabet they come from rather than by their id.
    return sum(math.log2(min(piece, 32000) + 2) for piece in pieces)


def token_weight(token: str) -> int:
    """Integer weight 1.._MAX_WEIGHT of a token, from its information."""
    return max(1, min(_MAX_WEIGHT, round(token_information(token) / _BITS_PER_UNIT)))


def weighted_tokens(tokens: Iterable[str]) -> str | None:
    """Tokens repeated by weight as distinct copies ("x200 x200~2 x200~3 black").

    Set sizes of the copies are sums of weights, so plain list intersect/union sizes in SQL
    give weighted Jaccard and weighted containment, on DuckDB and Spark alike.
    """
    out = []
    for token in dict.fromkeys(tokens):
        out.append(token)
        out.extend(f"{token}~{i}" for i in range(2, token_weight(token) + 1))
    return " ".join(out) or None


# A fallback only (the data's own brand column comes first): manufacturers common across
# consumer electronics, so a title-only source still yields a brand for the well known.
_GENERIC_BRAND_TEXT = """
    acer akg alcatel amazon apple asus audio-technica beats blackberry bose canon dell
    fujifilm garmin google hp htc huawei jabra jbl lenovo lg logitech microsoft motorola
    nikon nokia oneplus oppo panasonic philips razer samsung sennheiser sharp shure skullcandy
    sony toshiba xiaomi zte
"""
GENERIC_BRANDS = frozenset(_GENERIC_BRAND_TEXT.split())


def brand_vocabulary(brands: Iterable[str | None]) -> dict[str, str]:
    """Brand token sequence (space-joined tokens) -> the brand as written in the data."""
    vocabulary: dict[str, str] = {}
    for brand in brands:
        if brand:
            key = " ".join(text_tokens(brand))
            if key:
                vocabulary.setdefault(key, brand)
    return vocabulary


def brand_from_title(
    title: str | None,
    vocabulary: dict[str, str],
    *,
    leading_token: bool = False,
    generic: bool = True,
) -> str | None:
    """The brand a title starts with (or names): the longest brand of the data's own brand
    column found at the start of the title, then anywhere in it; else a generic well-known
    brand (with `generic`); else, with `leading_token` (no source has a brand column), the
    title's first word when it is alphabetic."""
    tokens = text_tokens(title)
    if not tokens:
        return None
    found = _brand_in(tokens, vocabulary)
    if found is None and generic:
        found = _brand_in(tokens, _generic_vocabulary())
    if found is not None:
        return found
    first = tokens[0]
    if leading_token and first.isalpha() and len(first) >= 2:
        return first
    return None


def _brand_in(tokens: list[str], vocabulary: dict[str, str]) -> str | None:
    """The longest brand (up to 3 tokens) at the start of the tokens, else the first found."""
    for start in range(len(tokens)):
        for length in (3, 2, 1):
            key = " ".join(tokens[start : start + length])
            if start + length <= len(tokens) and key in vocabulary:
                return vocabulary[key]
    return None


@cache
def _generic_vocabulary() -> dict[str, str]:
    return brand_vocabulary(sorted(GENERIC_BRANDS))
