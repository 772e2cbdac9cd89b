"""Mapping values: how one canonical attribute is read from a source record.

A value is either a column name (`email: mail`: the column's value as it is) or a template
naming columns in braces (`address_line1: "{street_number} {street}"`): the named columns'
values, trimmed, with the text between them. A missing or blank column is dropped together
with the separator in front of it (the first present column drops none), and the text before
the first and after the last column is kept only when some column is present, so
`"{street_number} {street}"` gives `High St` without a number and null when both are blank.
`{{` and `}}` are literal braces, outside braces and inside them: `"{price {{eur}}}"` reads
the column `price {eur}` (`column_reference` writes any column name so). A value holding a
brace is a template, so such a column is always named in braces. Inside braces `}}` is part of
the name, so a column cannot be followed directly by a literal `}`: `{a}}}` names `a}`. A
column name is trimmed: `{ {{x}} }` names `{x}`.

A template is `prefix + v1 + s2 + v2 + ... + suffix` over the present values: a
`concat_ws`-like expression, so it can later be applied in SQL or Arrow as well as row by row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


class TemplateError(ValueError):
    """A mapping value that does not parse as a template."""


@dataclass(frozen=True)
class Part:
    """One column of a template and the separator written before it when an earlier column
    is present."""

    column: str
    separator: str


@dataclass(frozen=True)
class Template:
    """A parsed template: `prefix`, then the present parts joined by their separators,
    then `suffix`."""

    prefix: str
    parts: tuple[Part, ...]
    suffix: str

    @property
    def columns(self) -> list[str]:
        return list(dict.fromkeys(part.column for part in self.parts))

    def render(self, row: Mapping[str, Any]) -> str | None:
        """The template over one record; None when every column is missing or blank."""
        out: list[str] = []
        for part in self.parts:
            value = _text(row.get(part.column))
            if value:
                out += [part.separator, value] if out else [value]
        return self.prefix + "".join(out) + self.suffix if out else None


def is_template(value: str) -> bool:
    return "{" in value or "}" in value


def column_reference(name: str, *, braced: bool = False) -> str:
    """The mapping value reading the column `name` as it is: the name itself, or in braces with
    its braces doubled when it holds one (or `braced`: a part of a template). A space pads a
    name starting with a brace, which would otherwise open with `{{`, a literal brace."""
    if not braced and not is_template(name):
        return name
    escaped = name.replace("{", "{{").replace("}", "}}")
    return "{" + (" " if name.startswith("{") else "") + escaped + "}"


@lru_cache(maxsize=4096)
def parse(value: str) -> Template:
    """The template a mapping value spells (a plain column name: that column alone)."""
    if not is_template(value):
        return Template("", (Part(value, ""),), "")
    texts: list[str] = []  # the literal text before each column, then the suffix
    columns: list[str] = []
    literal: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch in "{}" and value[i + 1 : i + 2] == ch:
            literal.append(ch)
            i += 2
        elif ch == "{":
            name, i = _column_name(value, i)
            texts.append("".join(literal))
            columns.append(name)
            literal = []
        elif ch == "}":
            raise TemplateError(
                f"'}}' at character {i + 1} closes nothing (write '}}}}' for a literal brace)"
            )
        else:
            literal.append(ch)
            i += 1
    if not columns:
        raise TemplateError("names no column: put column names in braces, e.g. '{street}'")
    suffix = "".join(literal)
    parts = tuple(Part(c, "" if j == 0 else texts[j]) for j, c in enumerate(columns))
    return Template(texts[0], parts, suffix)


def _column_name(value: str, start: int) -> tuple[str, int]:
    """The column named by the braces opening at `start` (`{{`/`}}` inside are braces of the
    name), and where the text after them begins."""
    name: list[str] = []
    i = start + 1
    while i < len(value):
        ch = value[i]
        if ch in "{}" and value[i + 1 : i + 2] == ch:
            name.append(ch)
            i += 2
        elif ch == "}":
            column = "".join(name).strip()
            if not column:
                raise TemplateError(f"empty braces at character {start + 1}: name a column")
            return column, i + 1
        elif ch == "{":
            break
        else:
            name.append(ch)
            i += 1
    raise TemplateError(
        f"'{{' at character {start + 1} is not closed (write '{{{{' for a literal brace)"
    )


def template_problem(value: str) -> str | None:
    """Why a mapping value cannot be used, if it cannot."""
    if not value.strip():
        return "name a column"
    try:
        parse(value)
    except TemplateError as exc:
        return f"template {value!r}: {exc}"
    return None


def columns_of(value: str) -> list[str]:
    """The source columns a mapping value reads, in order."""
    return parse(value).columns


def mapped_columns(mapping: Mapping[str, str]) -> list[tuple[str, str]]:
    """(attribute, column) for every column a mapping reads."""
    return [
        (attribute, column) for attribute, value in mapping.items() for column in columns_of(value)
    ]


def value_of(value: str, row: Mapping[str, Any]) -> Any:
    """One mapping value over one record: a plain column's value as it is (standardisation
    judges it), a template's rendering."""
    if not is_template(value):
        return row.get(value)
    return parse(value).render(row)


def apply_mapping(mapping: Mapping[str, str], row: Mapping[str, Any]) -> dict[str, Any]:
    """A source record's canonical values: attribute -> its mapping value over the record."""
    return {attribute: value_of(value, row) for attribute, value in mapping.items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    return (value if isinstance(value, str) else str(value)).strip()
