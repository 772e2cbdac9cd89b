"""How `e360 resolve` reads the values of extra columns."""

from __future__ import annotations

import pytest

from matching.mapped.resolver import _extra_value, _number


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("1234.5", 1234.5),
        (" 1,234,567.25 ", 1234567.25),
        ("12,5", 12.5),  # a decimal comma
        ("-3", -3.0),
        ("1 000", 1000.0),
        ("1e3", 1000.0),
        ("", None),
        (None, None),
        ("n/a", None),
        ("1,23,4", None),  # neither thousands nor a decimal comma: not guessed
        ("inf", None),
    ],
)
def test_numbers_as_written_in_files(text: str | None, number: float | None) -> None:
    assert _number(text) == number


def test_text_and_exact_values_fold_case_and_spacing() -> None:
    assert _extra_value("  Senior  ENGINEER ", "text", True) == "senior engineer"
    assert _extra_value("Zoë", "exact", True) == "zoe"


def test_dates_honour_dayfirst() -> None:
    assert str(_extra_value("03/04/1980", "date", True)) == "1980-04-03"
    assert str(_extra_value("03/04/1980", "date", False)) == "1980-03-04"
    assert _extra_value("31/02/1980", "date", True) is None
