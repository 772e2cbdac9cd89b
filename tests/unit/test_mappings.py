"""Mapping values (e360.mappings): a column name, or a template combining columns."""

from __future__ import annotations

import pytest

from e360.mappings import (
    Part,
    apply_mapping,
    column_reference,
    columns_of,
    mapped_columns,
    parse,
    template_problem,
    value_of,
)


def test_a_plain_column_is_read_as_it_is() -> None:
    assert columns_of("Street Name") == ["Street Name"]
    assert value_of("mail", {"mail": "  A@B.com "}) == "  A@B.com "  # standardisation trims
    assert value_of("mail", {"mail": ""}) == ""
    assert value_of("mail", {}) is None


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"no": "12", "street": "High St"}, "12 High St"),
        ({"no": " 12 ", "street": " High St "}, "12 High St"),  # parts trimmed
        ({"no": "", "street": "High St"}, "High St"),  # no leading space
        ({"no": "12", "street": None}, "12"),  # no trailing space
        ({"street": "High St"}, "High St"),  # a column the record lacks is missing
        ({"no": "  ", "street": ""}, None),  # all blank: null, not ""
        ({}, None),
    ],
)
def test_missing_parts_drop_their_separator(row: dict, expected: str | None) -> None:
    assert value_of("{no} {street}", row) == expected


def test_a_missing_middle_part_takes_the_separator_before_it() -> None:
    template = "{street}, {town} {postcode}"
    assert value_of(template, {"street": "1 Rd", "town": "Leeds", "postcode": "LS1"}) == (
        "1 Rd, Leeds LS1"
    )
    assert value_of(template, {"street": "1 Rd", "postcode": "LS1"}) == "1 Rd LS1"
    assert value_of(template, {"town": "Leeds", "postcode": "LS1"}) == "Leeds LS1"
    assert value_of(template, {"street": "1 Rd", "town": "Leeds"}) == "1 Rd, Leeds"


def test_text_around_the_columns_only_with_a_value() -> None:
    assert value_of("Flat {flat}", {"flat": "3"}) == "Flat 3"
    assert value_of("Flat {flat}", {"flat": ""}) is None
    assert value_of("({code})", {"code": "x"}) == "(x)"


def test_double_braces_are_literal_braces() -> None:
    assert value_of("{{{a} }}", {"a": "x"}) == "{x }"
    assert columns_of("{{not}} {a}") == ["a"]


def test_double_braces_inside_braces_are_braces_of_the_column_name() -> None:
    assert columns_of("{price {{eur}}}") == ["price {eur}"]
    assert value_of("{price {{eur}}} EUR", {"price {eur}": "9.50"}) == "9.50 EUR"
    assert columns_of("{a}}}") == ["a}"]  # `}}` inside braces belongs to the name
    assert columns_of("{ {{x}} }") == ["{x}"]  # names are trimmed: a space keeps `{{` inside


@pytest.mark.parametrize(
    "name",
    ["price {eur}", "{x}", "a}", "}b", "{", "}}", "x{y", "{a} {b}", "street", "Street Name"],
)
def test_a_column_reference_reads_exactly_that_column(name: str) -> None:
    reference = column_reference(name)
    assert columns_of(reference) == [name]
    assert template_problem(reference) is None
    assert value_of(reference, {name: "v", "a": "no", "x": "no"}) == "v"


def test_a_column_reference_is_the_plain_name_without_braces() -> None:
    assert column_reference("street") == "street"
    assert column_reference("price {eur}") == "{price {{eur}}}"


def test_non_text_values_are_written_as_text() -> None:
    assert value_of("{n}-{m}", {"n": 12, "m": 1.5}) == "12-1.5"


def test_the_parts_are_a_concat_ws_over_columns() -> None:
    template = parse("No. {a}, {b}!")
    assert template.prefix == "No. " and template.suffix == "!"
    assert template.parts == (Part("a", ""), Part("b", ", "))


def test_columns_of_names_each_column_once_in_order() -> None:
    assert columns_of("{b} {a} {b}") == ["b", "a"]
    assert columns_of("{ spaced name }") == ["spaced name"]


def test_apply_mapping_and_the_columns_it_reads() -> None:
    mapping = {"address_line1": "{no} {street}", "email": "mail"}
    row = {"no": "4", "street": "Elm Rd", "mail": "a@b.c"}
    assert apply_mapping(mapping, row) == {"address_line1": "4 Elm Rd", "email": "a@b.c"}
    assert mapped_columns(mapping) == [
        ("address_line1", "no"),
        ("address_line1", "street"),
        ("email", "mail"),
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("{street", "'{' at character 1 is not closed"),
        ("{a} {b", "'{' at character 5 is not closed"),
        ("a}", "'}' at character 2 closes nothing"),
        ("{}", "empty braces at character 1"),
        ("{  }", "empty braces"),
        ("{{a}}", "names no column"),
        ("{a{b}", "is not closed"),
        ("{price {eur}}", "'{' at character 1 is not closed"),
        ("{price {{eur}}", "'{' at character 1 is not closed"),
        ("{price {{eur}}} }", "'}' at character 17 closes nothing"),
        ("  ", "name a column"),
    ],
)
def test_a_template_that_does_not_parse_says_why(value: str, reason: str) -> None:
    problem = template_problem(value)
    assert problem is not None and reason in problem


def test_valid_values_have_no_problem() -> None:
    assert template_problem("street") is None
    assert template_problem("{a} {b}") is None
