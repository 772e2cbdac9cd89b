"""What every standardiser shares: coercion of raw values to text, the clean-text form
(Unicode folded to lower-case ASCII, whitespace collapsed), identifiers, and the cache size.

Every public standardiser accepts whatever value ingestion handed over (usually
`str | None`, but ints, floats, dates or arbitrary objects can turn up) and returns the
normalised value, or None when the input is empty or unusable. None of them raise on bad
data: a single odd value must not abort a 500k-record batch.

Hot paths are memoised with `functools.lru_cache` on the *string* form of the input. The
public wrappers coerce to `str` first (`as_str`) so that unhashable garbage never reaches
the cache.
"""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache
from typing import Any

from unidecode import unidecode

# Sized so the working set of a 500k-record batch (first names, cities, countries,
# postcodes, phones) stays resident without the cache growing without bound.
CACHE_SIZE = 1 << 17

APOSTROPHES_RE = re.compile(r"['`\u2018\u2019\u02bc]")
HAS_DIGIT_RE = re.compile(r"\d")


def as_str(value: Any) -> str | None:
    """Best-effort string form of a raw value; None for anything that is not text-like."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    # bool is an int subclass, but True/False is never a meaningful attribute value.
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # CSV type inference turns "07700900123" or "5012345678900" into floats; drop the
        # spurious ".0" so digit-based fields survive.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return None


def words(text: str) -> frozenset[str]:
    """The whitespace-separated words of a literal word list."""
    return frozenset(text.split())


_SURROGATES_RE = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=CACHE_SIZE)
def clean_str(s: str) -> str | None:
    """`clean_text` of a string, cached."""
    # NFKC and unidecode are identities on ASCII, and most data is ASCII: skip them.
    if not s.isascii():
        # Lone surrogates (from badly decoded bytes) only make unidecode emit warnings.
        s = unidecode(unicodedata.normalize("NFKC", _SURROGATES_RE.sub("", s)))
    s = " ".join(s.lower().split())
    return s or None


def clean_text(value: Any) -> str | None:
    """NFKC + ASCII-fold + lowercase + collapse whitespace; empty -> None."""
    s = as_str(value)
    return None if s is None else clean_str(s)


def display_text(value: Any) -> str | None:
    """A value as its source wrote it, for people to read: whitespace trimmed and collapsed,
    case and accents kept; empty -> None."""
    s = as_str(value)
    return None if s is None else " ".join(s.split()) or None


_IDENTIFIER_JUNK_RE = re.compile(r"[^A-Z0-9]+")


def identifier(value: Any) -> str | None:
    """Uppercase alphanumerics only, for IDs typed with arbitrary spacing/dashes."""
    cleaned = clean_text(value)
    return None if cleaned is None else _IDENTIFIER_JUNK_RE.sub("", cleaned.upper()) or None
