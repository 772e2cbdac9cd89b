"""Person names and demographics: name components in one matching form, nicknames to formal
names, full names split into parts, phonetic keys, gender codes."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, NamedTuple

import jellyfish
from unidecode import unidecode

from matching.standardize.clean import APOSTROPHES_RE, CACHE_SIZE, as_str, clean_text
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
# A name token in folded text: letters joined through apostrophes (removed: "O'Brien" ->
# "obrien") and through hyphens with any separators around them ("Mary - Jane" ->
# "mary-jane"); anything else separates tokens. Possessive, so no input backtracks.
_TOKEN_RE = re.compile(
    rf"[a-z]++(?:(?:{APOSTROPHES_RE.pattern}++|(?=[^a-z-]*+-)[^a-z]++)[a-z]++)*+"
)
_GAP_RE = re.compile(r"[^a-z]++")


class _Token(NamedTuple):
    """A name token: its name() form and the span of the text that wrote it."""

    form: str
    start: int
    end: int


def _folded(s: str) -> tuple[str, list[int] | None]:
    """clean_str's folding done character by character: the folded text, and for each of its
    characters the index of the written character it came from (None: the same index)."""
    if s.isascii():
        return s.lower(), None
    folded: list[str] = []
    source: list[int] = []
    for i, ch in enumerate(s):
        if APOSTROPHES_RE.match(ch) or "\ud800" <= ch <= "\udfff":
            continue  # removed before folding, as clean_str removes lone surrogates
        # unidecode maps character by character, so folding each one folds the whole
        f = ch.lower() if ch.isascii() else unidecode(unicodedata.normalize("NFKC", ch)).lower()
        folded.append(f)
        source.extend([i] * len(f))
    return "".join(folded), source


def _gap_form(gap: re.Match[str]) -> str:
    return "-" if "-" in gap.group() else ""  # the rest of a gap in a token is apostrophes


def _clean_name_tokens(s: str, offset: int = 0) -> list[_Token]:
    """Name tokens of s (spans from `offset`), titles, suffixes and particles all kept."""
    folded, source = _folded(s)
    tokens = []
    for m in _TOKEN_RE.finditer(folded):
        text, start, end = m.group(), m.start(), m.end()
        form = text if text.isalpha() else _GAP_RE.sub(_gap_form, text)
        if source is not None:
            start, end = source[start], source[end - 1] + 1
        tokens.append(_Token(form, offset + start, offset + end))
    return tokens


def _written(s: str, token: _Token) -> str:
    """The token as s writes it (whitespace collapsed)."""
    end = token.end
    # Combining marks fold to nothing but belong to the letter before them ("e\u0301").
    while end < len(s) and unicodedata.category(s[end]).startswith("M"):
        end += 1
    # A dot right after a token is its abbreviation mark ("J." of "J.R."), so it is shown.
    if s.startswith(".", end):
        end += 1
    return " ".join(s[token.start : end].split())


def _strip_titles(tokens: Sequence[_Token]) -> Sequence[_Token]:
    # Titles only lead and suffixes only trail, so a surname such as "Sir" or "Miss" in
    # the middle of a name survives.
    start, end = 0, len(tokens)
    while start < end and tokens[start].form in _TITLES:
        start += 1
    while end > start and tokens[end - 1].form in _SUFFIXES:
        end -= 1
    return tokens[start:end]


def _particle_groups(tokens: Sequence[_Token]) -> list[Sequence[_Token]]:
    """Tokens grouped into words, particles with the token after them, so "van der Berg" is
    one word: "vanderberg" (likewise "Mc Donald" -> "mcdonald")."""
    out: list[Sequence[_Token]] = []
    pending: list[_Token] = []
    for tok in tokens:
        pending.append(tok)
        if tok.form not in _PARTICLES:
            out.append(pending)
            pending = []
    if pending:
        # A trailing particle has nothing to attach to ("John De"): keep it as a word.
        out.append(pending)
    return out


def _word_forms(words: Sequence[Sequence[_Token]]) -> str | None:
    """The name() form of words: each word's tokens joined, words spaced."""
    return " ".join("".join(t.form for t in word) for word in words) or None


@lru_cache(maxsize=CACHE_SIZE)
def _name_str(s: str) -> str | None:
    return _word_forms(_particle_groups(_strip_titles(_clean_name_tokens(s))))


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


NameParts = tuple[str | None, str | None, str | None]
"""(first, middle, last), any of them missing."""


class SplitName(NamedTuple):
    """A full name split once into its parts, seen two ways: each part's name() form
    (`matching`) and the same part as written (`display`: case, accents and punctuation kept,
    whitespace collapsed). A part is in both views or in neither."""

    matching: NameParts
    display: NameParts


_Words = Sequence[Sequence[_Token]]  # a name part: its words, each of one or more tokens


def _split_tokens(tokens: Sequence[_Token]) -> tuple[_Words, _Words, _Words]:
    if not tokens:
        return (), (), ()
    # The first token is always the given name, even if it looks like a particle
    # ("Van Morrison"); particles are only merged in the surname part.
    first, rest = [tokens[:1]], _particle_groups(tokens[1:])
    return first, rest[:-1], rest[-1:]


def _split_full_name_tokens(s: str) -> tuple[_Words, _Words, _Words]:
    # Each comma-separated part tokenised alone, so a comma always separates tokens. Parts
    # that are only titles/suffixes are dropped ("John Smith, Jr."), so the remaining comma
    # really signals "LAST, First Middle".
    raw_parts, offset = [], 0
    for text in s.split(","):
        raw_parts.append(_clean_name_tokens(text, offset))
        offset += len(text) + 1
    kept = [i for i, p in enumerate(raw_parts) if _strip_titles(p)]
    if len(raw_parts) >= 2 and kept == [0]:
        only = _strip_titles(raw_parts[0])
        if len(only) == 1:  # "Smith," / "Smith, Jr.": a lone word before a comma
            return (), (), [only]
    if len(kept) >= 2:
        last = _particle_groups(_strip_titles(raw_parts[kept[0]]))
        given = _strip_titles([t for i in kept[1:] for t in raw_parts[i]])
        if not given:
            return (), (), last
        return [given[:1]], [[t] for t in given[1:]], last
    return _split_tokens(_strip_titles(raw_parts[kept[0]]) if kept else ())


def _written_words(s: str, words: _Words) -> str | None:
    return " ".join(_written(s, t) for word in words for t in word) or None


@lru_cache(maxsize=CACHE_SIZE)
def _split_full_name_str(s: str) -> SplitName:
    parts = _split_full_name_tokens(s)
    return SplitName(
        matching=(_word_forms(parts[0]), _word_forms(parts[1]), _word_forms(parts[2])),
        display=(
            _written_words(s, parts[0]),
            _written_words(s, parts[1]),
            _written_words(s, parts[2]),
        ),
    )


_NO_NAME = SplitName((None, None, None), (None, None, None))


def split_full_name_views(value: Any) -> SplitName:
    """A full name, "First Middle Last" or "LAST, First Middle", split into its parts, in
    name() form and as written ("GARCÍA, José" -> matching ("jose", None, "garcia"), display
    ("José", None, "GARCÍA"); "J.R. Smith" -> ("j", "r", "smith"), ("J.", "R.", "Smith")).

    Titles and suffixes are dropped, particles join the surname ("van Beethoven"). A single
    word is the first name; a single word before a comma is the last name.
    """
    s = as_str(value)
    return _NO_NAME if s is None else _split_full_name_str(s)


def split_full_name(value: Any) -> NameParts:
    """(first, middle, last) of a full name in name() form: split_full_name_views' matching
    view ("SMITH, John Paul" -> "john", "paul", "smith")."""
    return split_full_name_views(value).matching


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
