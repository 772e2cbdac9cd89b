"""Organisation names: a company's name with its legal form, '&' and punctuation read the
same way in every source, and its words in sorted order."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from cleanco import basename as _legal_basename

from matching.standardize.clean import APOSTROPHES_RE, CACHE_SIZE, as_str, clean_str

_COMPANY_JUNK_RE = re.compile(r"[^a-z0-9\s]+")
_COMPANY_STOPWORDS = frozenset({"the"})


@lru_cache(maxsize=CACHE_SIZE)
def _company_name_str(s: str) -> str | None:
    cleaned = clean_str(APOSTROPHES_RE.sub("", s))
    if cleaned is None:
        return None
    cleaned = APOSTROPHES_RE.sub("", cleaned)
    # cleanco reads legal forms with their punctuation ("s.a.", "gmbh & co. kg"), so it runs
    # before '&' and punctuation are replaced; a name that is only a legal form ("Co-op") stays.
    base = cleaned
    for _ in range(3):  # stacked forms: "co. ltd"
        stripped = _legal_basename(base)
        if not stripped or stripped == base:
            break
        base = stripped
    base = base.replace("&", " and ").replace("+", " and ")
    tokens = [t for t in _COMPANY_JUNK_RE.sub(" ", base).split() if t not in _COMPANY_STOPWORDS]
    return " ".join(tokens) or None


def company_name(value: Any) -> str | None:
    """An organisation's name for matching: lower-case ASCII, legal form removed (Ltd, Inc,
    GmbH, S.A.), '&' read as 'and', punctuation and 'the' dropped.

    "The Müller & Sons GmbH" -> "muller and sons"; "apple pan, the" -> "apple pan".
    """
    s = as_str(value)
    return None if s is None else _company_name_str(s)


def company_name_tokens(name_value: str | None) -> str | None:
    """The distinct words of a company_name() form, sorted: word order aside."""
    return None if name_value is None else " ".join(sorted(set(name_value.split()))) or None
