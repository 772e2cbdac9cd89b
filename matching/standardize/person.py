"""Person names and demographics: name components in one matching form, nicknames to formal
names, full names split into parts, phonetic keys, gender codes."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jellyfish

from matching.standardize.clean import APOSTROPHES_RE, CACHE_SIZE, as_str, clean_str, clean_text
from matching.standardize.nicknames import NICKNAMES

_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "rev", "revd"}
)
_SUFFIXES = frozenset({"jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv", "esq"})
# Particles glued to the following token, so "Van der Berg", "van der berg" and
# "Vanderberg" all become "vanderberg" (likewise "Mc Donald" -> "mcdonald").
_PARTICLES = frozenset(
    {
        "van", "von", "der", "den", "ter", "ten", "de", "del", "della", "di", "da", "la",
        "le", "du", "des", "dos", "das", "st", "mc", "mac", "al", "el",
    }
)  # fmt: skip
_NAME_JUNK_RE = re.compile(r"[^a-z\s-]+")
_HYPHEN_RE = re.compile(r"\s*-[\s-]*")


def _clean_name_tokens(s: str) -> list[str]:
    """Cleaned name tokens, titles, suffixes and particles all kept."""
    s = APOSTROPHES_RE.sub("", s)  # before folding: unidecode maps curly quotes to "'"
    cleaned = clean_str(s)
    if cleaned is None:
        return []
    cleaned = APOSTROPHES_RE.sub("", cleaned)
    cleaned = _NAME_JUNK_RE.sub(" ", cleaned)
    cleaned = _HYPHEN_RE.sub("-", cleaned)
    tokens = [t.strip("-") for t in cleaned.split()]
    return [t for t in tokens if t]


def _name_tokens(s: str) -> list[str]:
    """Cleaned name tokens with titles/suffixes removed but particles still separate."""
    tokens = _clean_name_tokens(s)
    # Titles only lead and suffixes only trail, so a surname such as "Sir" or "Miss" in
    # the middle of a name survives.
    start, end = 0, len(tokens)
    while start < end and tokens[start] in _TITLES:
        start += 1
    while end > start and tokens[end - 1] in _SUFFIXES:
        end -= 1
    return tokens[start:end]


def _merge_particles(tokens: list[str]) -> list[str]:
    out: list[str] = []
    pending = ""
    for tok in tokens:
        if tok in _PARTICLES:
            pending += tok
        else:
            out.append(pending + tok)
            pending = ""
    if pending:
        # A trailing particle has nothing to attach to ("John De"): keep it as a word.
        out.append(pending)
    return out


@lru_cache(maxsize=CACHE_SIZE)
def _name_str(s: str) -> str | None:
    return " ".join(_merge_particles(_name_tokens(s))) or None


def name(value: Any) -> str | None:
    """Clean a person-name component for matching.

    Lowercase ASCII, apostrophes removed ("O'Brien" -> "obrien"), other punctuation
    dropped except hyphens, leading titles and trailing suffixes removed, particles
    attached to the following word ("Mc Donald" -> "mcdonald").
    """
    s = as_str(value)
    return None if s is None else _name_str(s)


def nickname_to_formal(cleaned: str | None) -> str | None:
    """The formal name a name() form is a nickname of ("bill" -> "william"), else itself."""
    if cleaned is None:
        return None
    return NICKNAMES.get(cleaned, cleaned)


def first_name_canonical(value: Any) -> str | None:
    """name() followed by nickname -> formal mapping ("Bill" -> "william")."""
    return nickname_to_formal(name(value))


def _split_tokens(tokens: list[str]) -> tuple[str | None, str | None, str | None]:
    if not tokens:
        return None, None, None
    # The first token is always the given name, even if it looks like a particle
    # ("Van Morrison"); particles are only merged in the surname part.
    first, rest = tokens[0], _merge_particles(tokens[1:])
    if not rest:
        return first, None, None
    return first, " ".join(rest[:-1]) or None, rest[-1]


@lru_cache(maxsize=CACHE_SIZE)
def _split_full_name_str(s: str) -> tuple[str | None, str | None, str | None]:
    # Drop comma-separated parts that are only titles/suffixes ("John Smith, Jr."), so the
    # remaining comma really signals "LAST, First Middle".
    raw_parts = s.split(",")
    parts = [p for p in raw_parts if _name_tokens(p)]
    if len(raw_parts) >= 2 and len(parts) == 1 and parts[0] is raw_parts[0]:
        only = _name_tokens(parts[0])
        if len(only) == 1:  # "Smith," / "Smith, Jr.": a lone word before a comma
            return None, None, only[0]
    if len(parts) >= 2:
        last_tokens = _name_tokens(parts[0])
        given_tokens = _name_tokens(" ".join(parts[1:]))
        last = " ".join(_merge_particles(last_tokens)) or None
        if not given_tokens:
            return None, None, last
        return given_tokens[0], " ".join(given_tokens[1:]) or None, last
    return _split_tokens(_name_tokens(" ".join(parts)))


def split_full_name(value: Any) -> tuple[str | None, str | None, str | None]:
    """(first, middle, last) from "First Middle Last" or "LAST, First Middle".

    Parts are in name() form. A single word is returned as the first name.
    """
    s = as_str(value)
    return (None, None, None) if s is None else _split_full_name_str(s)


# Display parts: the words of a full name as written (case, accents, apostrophes kept), split
# the way split_full_name splits its name() tokens, so each part is what a person reads for
# the part split_full_name returns.
_Word = tuple[str, tuple[str, ...]]  # a word as written, and its name() tokens


def _display_words(s: str) -> list[_Word]:
    words = [(w, tuple(_clean_name_tokens(w))) for w in s.split()]
    words = [w for w in words if w[1]]
    start, end = 0, len(words)
    while start < end and all(t in _TITLES for t in words[start][1]):
        start += 1
    while end > start and all(t in _SUFFIXES for t in words[end - 1][1]):
        end -= 1
    return words[start:end]


def _merge_display_particles(words: list[_Word]) -> list[str]:
    out: list[str] = []
    pending: list[str] = []
    for word, tokens in words:
        if len(tokens) == 1 and tokens[0] in _PARTICLES:
            pending.append(word)
        else:
            out.append(" ".join([*pending, word]))
            pending = []
    if pending:
        out.append(" ".join(pending))
    return out


def _split_display_words(words: list[_Word]) -> tuple[str | None, str | None, str | None]:
    if not words:
        return None, None, None
    first, rest = words[0][0], _merge_display_particles(words[1:])
    if not rest:
        return first, None, None
    return first, " ".join(rest[:-1]) or None, rest[-1]


@lru_cache(maxsize=CACHE_SIZE)
def _split_full_name_display_str(s: str) -> tuple[str | None, str | None, str | None]:
    raw_parts = s.split(",")
    parts = [p for p in raw_parts if _display_words(p)]
    if len(raw_parts) >= 2 and len(parts) == 1 and parts[0] is raw_parts[0]:
        only = _display_words(parts[0])
        if len(only) == 1:
            return None, None, only[0][0]
    if len(parts) >= 2:
        last = " ".join(_merge_display_particles(_display_words(parts[0]))) or None
        given = _display_words(" ".join(parts[1:]))
        if not given:
            return None, None, last
        return given[0][0], " ".join(w for w, _ in given[1:]) or None, last
    return _split_display_words(_display_words(" ".join(parts)))


def split_full_name_display(value: Any) -> tuple[str | None, str | None, str | None]:
    """(first, middle, last) as written, for display: split_full_name's parts with their case,
    accents and punctuation ("GARCÍA, José" -> "José", None, "GARCÍA"; "Ludwig van
    Beethoven" -> "Ludwig", None, "van Beethoven"); titles and suffixes dropped alike."""
    s = as_str(value)
    return (None, None, None) if s is None else _split_full_name_display_str(s)


@lru_cache(maxsize=CACHE_SIZE)
def _phonetic_str(cleaned: str) -> str | None:
    return " ".join(jellyfish.metaphone(t) for t in cleaned.split()) or None


def phonetic_key(cleaned: str | None) -> str | None:
    """phonetic() of a name already in name() form."""
    return None if cleaned is None else _phonetic_str(cleaned)


def phonetic(value: Any) -> str | None:
    """Metaphone key of a person name in name() form, word by word ("Smyth" -> "SM0").

    A key of the sound survives the typos and spelling variants that break exact equality,
    so blocking and a comparison level can use it where the spelling differs.
    """
    return phonetic_key(name(value))


_GENDERS: dict[str, str] = {
    "m": "M",
    "male": "M",
    "man": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "x": "X",
    "other": "X",
    "non-binary": "X",
    "nonbinary": "X",
    "non binary": "X",
    "nb": "X",
}


def gender(value: Any) -> str | None:
    """'M' / 'F' / 'X' from common codes and words; unknown -> None."""
    cleaned = clean_text(value)
    return None if cleaned is None else _GENDERS.get(cleaned.strip("."))
