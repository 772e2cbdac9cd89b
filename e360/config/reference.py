"""The configuration reference, generated from pydantic models: every key as a dotted path,
its type, default, whether it is required and its description (the attribute docstring
below the field), with an example per section; and the JSON Schema editors validate with.

Any pydantic model can be documented (the resolve mapping file too): `docs/configuration.md`
is `e360 schema --markdown` (`make docs-config`), and a test fails when it is out of date or
a key has no description.
"""

from __future__ import annotations

import json
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from e360.config.keys import NAME_PLACEHOLDER, literal_keys, mapping_of, model_of, union_members


@dataclass(frozen=True)
class Key:
    """One documented key."""

    path: str
    type: str
    default: str  # empty when required
    required: bool
    description: str


@dataclass(frozen=True)
class Document:
    """One configuration file to document: its root model and an example of its sections."""

    title: str
    model: type[BaseModel]
    intro: str
    example: dict[str, Any] = field(default_factory=dict)  # section name -> example value


def keys(model: type[BaseModel], prefix: str = "") -> Iterator[Key]:
    """Every key of a model, depth first, sections before their keys."""
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        yield Key(
            path=path,
            type=type_name(info.annotation, info.metadata),
            default="" if info.is_required() else _default(info),
            required=info.is_required(),
            description=" ".join((info.description or "").split()),
        )
        yield from _keys_beneath(info.annotation, path)


def _keys_beneath(annotation: Any, path: str) -> Iterator[Key]:
    model = model_of(annotation)
    if model is not None:
        yield from keys(model, f"{path}.")
        return
    mapping = mapping_of(annotation)
    if mapping is not None:
        names = literal_keys(mapping[0])
        yield from _keys_beneath(mapping[1], f"{path}.<{'|'.join(names) if names else 'name'}>")
        return
    for member in union_members(annotation):
        if get_origin(member) is list:
            yield from _keys_beneath(get_args(member)[0], f"{path}[]")
            return
    for member in union_members(annotation):  # e.g. a rule name or a custom rule section
        member_model = model_of(member)
        if member_model is not None:
            yield from keys(member_model, f"{path}.")


def undocumented(model: type[BaseModel]) -> list[str]:
    """The keys without a description."""
    return [key.path for key in keys(model) if not key.description]


_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path"}
_BOUNDS = (("ge", "≥"), ("gt", ">"), ("le", "≤"), ("lt", "<"))


def type_name(annotation: Any, metadata: Sequence[Any] = ()) -> str:
    """A type as a reader of YAML sees it: `integer ≥ 1`, `list of string`, `one of a, b`."""
    constraints = _constraints(metadata)
    while get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        constraints += _constraints(extra)
    name = _bare_type_name(annotation)
    return f"{name} ({', '.join(constraints)})" if constraints else name


def _bare_type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if annotation in _SCALARS:
        return _SCALARS[annotation]
    if annotation is type(None):
        return "none"
    if origin is Literal:
        return "one of " + ", ".join(f"`{v}`" for v in get_args(annotation))
    if origin in (Union, types.UnionType):
        return " or ".join(type_name(a) for a in get_args(annotation))
    if origin is list:
        return f"list of {_grouped(get_args(annotation)[0])}"
    if origin is tuple:
        return "[" + ", ".join(type_name(a) for a in get_args(annotation)) + "]"
    if origin is dict:
        key, value = get_args(annotation)
        return f"mapping of {_grouped(key)} to {_grouped(value)}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return getattr(annotation, "__name__", str(annotation))


def _grouped(annotation: Any) -> str:
    """A type inside another, parenthesised when it is a choice: `list of (a or b)`."""
    name = type_name(annotation)
    return f"({name})" if " or " in name else name


def _constraints(metadata: Sequence[Any]) -> list[str]:
    found: list[str] = []
    for item in metadata:
        if isinstance(item, FieldInfo):
            found += _constraints(item.metadata)
            continue
        for attribute, sign in _BOUNDS:
            if getattr(item, attribute, None) is not None:
                found.append(f"{sign} {getattr(item, attribute)}")
        for attribute, word in (("min_length", "at least"), ("max_length", "at most")):
            if getattr(item, attribute, None) is not None:
                found.append(f"{word} {getattr(item, attribute)} long")
        if getattr(item, "pattern", None) is not None:
            found.append(f"matching `{item.pattern}`")
    return found


def _default(info: FieldInfo) -> str:
    value = info.get_default(call_default_factory=True)
    if value is PydanticUndefined:
        return ""
    if isinstance(value, BaseModel):
        return "(its keys' defaults)"
    return f"`{json.dumps(value, default=str)}`"


def markdown(documents: Sequence[Document], *, generated_by: str) -> str:
    """The reference of every document as one Markdown page."""
    lines = [
        "# Configuration reference",
        "",
        f"Generated from the configuration models by `{generated_by}`: do not edit by hand.",
        "Keys are dotted paths; `<name>` stands for a name you choose (a source), `<a|b>` for",
        "one of the names listed, `[]` for each item of a list.",
        "",
    ]
    for document in documents:
        lines += [f"## {document.title}", "", document.intro, ""]
        fields = document.model.model_fields
        plain = [name for name, info in fields.items() if not _has_keys(info.annotation)]
        if plain:  # the keys that are no section, together
            lines += _section(document, "Top-level keys", plain)
        for name, info in fields.items():
            if name not in plain:
                lines += _section(document, f"`{name}`", [name], info.description)
    return "\n".join(lines).rstrip() + "\n"


def _has_keys(annotation: Any) -> bool:
    """A section: a model, or a mapping or list of them."""
    return next(_keys_beneath(annotation, ""), None) is not None


def _section(
    document: Document, title: str, names: list[str], description: str | None = None
) -> list[str]:
    lines = [f"### {title}", ""]
    if description:
        lines += [" ".join(description.split()), ""]
    lines += [
        "| key | type | default | required | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for key in keys(document.model):
        if not any(key.path == n or key.path.startswith((f"{n}.", f"{n}[")) for n in names):
            continue
        cells = [
            f"`{key.path}`",
            key.type,
            key.default,
            "yes" if key.required else "no",
            key.description,
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    examples = {n: e for n in names if (e := _example(document, n)) is not None}
    if examples:
        shown = yaml.safe_dump(examples, sort_keys=False, allow_unicode=True, width=100)
        lines += ["Example:", "", "```yaml", shown.rstrip(), "```", ""]
    return lines


def _example(document: Document, name: str) -> Any | None:
    """The key as the example file has it (named entries and lists cut to their first two),
    else a section's defaults."""
    info = document.model.model_fields[name]
    if name in document.example:
        value = document.example[name]
        mapping = mapping_of(info.annotation)
        if isinstance(value, dict) and mapping is not None and literal_keys(mapping[0]) is None:
            value = dict(list(value.items())[:2])
        if isinstance(value, list) and _has_keys(info.annotation):
            value = value[:2]
        return value
    default = info.get_default(call_default_factory=True)
    if isinstance(default, BaseModel):
        return default.model_dump(mode="json")
    return None


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of a model, with every key's description, for editors."""
    schema = model.model_json_schema()
    schema.setdefault("$schema", "https://json-schema.org/draft/2020-12/schema")
    return schema


__all__ = [
    "NAME_PLACEHOLDER",
    "Document",
    "Key",
    "json_schema",
    "keys",
    "markdown",
    "type_name",
    "undocumented",
]
