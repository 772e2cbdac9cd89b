"""Dates and timestamps: calendar dates from the formats sources write (day-first or
month-first, month names, compact digits) within a plausible window, and timestamps as
naive UTC."""

from __future__ import annotations

import datetime as _dt
import re
from functools import lru_cache
from typing import Any

from matching.standardize.clean import CACHE_SIZE, as_str

_MIN_DATE = _dt.date(1900, 1, 1)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ].*)?$")
_YMD_RE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[t ].*)?$")
_DMY_RE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[t ].*)?$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_D_MON_Y_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4})$")
_MON_D_Y_RE = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def _mkdate(y: str | int, m: str | int, d: str | int) -> _dt.date | None:
    try:
        return _dt.date(int(y), int(m), int(d))
    except (ValueError, OverflowError):
        return None


@lru_cache(maxsize=CACHE_SIZE)
def _parse_date_str(s: str, dayfirst: bool) -> _dt.date | None:
    """Calendar date from a string, without the plausibility window."""
    s = s.strip().lower()
    if m := _ISO_DATE_RE.match(s) or _YMD_RE.match(s):
        return _mkdate(*m.groups())
    if m := _DMY_RE.match(s):
        a, _, b, y = m.groups()
        first, second = (a, b) if dayfirst else (b, a)
        parsed = _mkdate(y, second, first)
        if parsed is None and int(second) > 12 >= int(first):
            # "12/25/1990" under dayfirst: the only reading that exists is month-first.
            parsed = _mkdate(y, first, second)
        return parsed
    if m := _COMPACT_RE.match(s):
        return _mkdate(*m.groups())
    if m := _D_MON_Y_RE.match(s):
        d, mon, y = m.groups()
        return _mkdate(y, _MONTHS[mon], d) if mon in _MONTHS else None
    if m := _MON_D_Y_RE.match(s):
        mon, d, y = m.groups()
        return _mkdate(y, _MONTHS[mon], d) if mon in _MONTHS else None
    return None


def date(value: Any, dayfirst: bool = True) -> _dt.date | None:
    """Calendar date from a date/datetime or common string formats.

    Ambiguous "01/02/2000"-style strings are read day-first unless `dayfirst=False`.
    Impossible dates, dates before 1900 and dates in the future -> None.
    """
    if isinstance(value, _dt.datetime):
        parsed: _dt.date | None = value.date()
    elif isinstance(value, _dt.date):
        parsed = value
    else:
        s = as_str(value)
        parsed = None if s is None else _parse_date_str(s, bool(dayfirst))
    # The window check stays outside the cache because "today" moves.
    if parsed is None or not (_MIN_DATE <= parsed <= _dt.date.today()):
        return None
    return parsed


_FRACTION_RE = re.compile(r"(\.\d{6})\d+")


def _to_naive_utc(ts: _dt.datetime) -> _dt.datetime:
    if ts.tzinfo is not None and ts.utcoffset() is not None:
        ts = ts.astimezone(_dt.UTC)
    return ts.replace(tzinfo=None)


@lru_cache(maxsize=4096)
def _timestamp_str(s: str) -> _dt.datetime | None:
    s = s.strip()
    if not s:
        return None
    # fromisoformat only takes up to microseconds; engines often emit nanoseconds.
    iso = _FRACTION_RE.sub(r"\1", s)
    try:
        return _to_naive_utc(_dt.datetime.fromisoformat(iso))
    except ValueError:
        pass
    d = _parse_date_str(s, True)
    return None if d is None else _dt.datetime(d.year, d.month, d.day)


def timestamp(value: Any) -> _dt.datetime | None:
    """Naive UTC datetime from a datetime/date or ISO-8601 string (Z or offset allowed).

    Values without an offset are taken to be UTC already.
    """
    try:
        if isinstance(value, _dt.datetime):
            return _to_naive_utc(value)
        if isinstance(value, _dt.date):
            return _dt.datetime(value.year, value.month, value.day)
        s = as_str(value)
        return None if s is None else _timestamp_str(s)
    except (ValueError, OverflowError):  # e.g. astimezone() beyond datetime.min/max
        return None
