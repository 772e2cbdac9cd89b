"""The keys of configuration models, read from their type annotations: which keys beneath a
section are required (to name them all when the section is missing), and what type sits at
a dotted path. Works on any pydantic model, so the resolve mapping file is read the same way.
"""

from __future__ import annotations

import types
from collections.abc import Sequence
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

# How a key of a mapping whose keys are free (source names) is shown in a dotted path.
NAME_PLACEHOLDER = "<name>"


def strip_annotated(annotation: Any) -> Any:
    while get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    return annotation


def union_members(annotation: Any) -> list[Any]:
    """The members of `X | Y` (or the annotation alone), `None` left out."""
    annotation = strip_annotated(annotation)
    if get_origin(annotation) in (Union, types.UnionType):
        return [strip_annotated(a) for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def model_of(annotation: Any) -> type[BaseModel] | None:
    """The model an annotation holds (`Model` or `Model | None`), if any."""
    for member in union_members(annotation):
        if isinstance(member, type) and issubclass(member, BaseModel):
            return member
    return None


def mapping_of(annotation: Any) -> tuple[Any, Any] | None:
    """(key type, value type) of a `dict[K, V]` annotation, if it is one."""
    for member in union_members(annotation):
        if get_origin(member) is dict:
            key, value = get_args(member)
            return key, value
    return None


def literal_keys(key_type: Any) -> list[str] | None:
    """The allowed keys of `dict[Literal[...], V]`; None for free keys."""
    key_type = strip_annotated(key_type)
    if get_origin(key_type) is Literal:
        return [str(k) for k in get_args(key_type)]
    return None


def required_keys(annotation: Any) -> list[str]:
    """Every required key beneath a value of this type, as dotted paths relative to it (empty
    for a plain value). Optional sections are left out: their defaults stand."""
    model = model_of(annotation)
    if model is not None:
        keys: list[str] = []
        for name, field in model.model_fields.items():
            if not field.is_required():
                continue
            beneath = required_keys(field.annotation)
            keys.extend(f"{name}.{key}" for key in beneath) if beneath else keys.append(name)
        return keys
    mapping = mapping_of(annotation)
    if mapping is not None and model_of(mapping[1]) is not None:
        beneath = required_keys(mapping[1])
        names = literal_keys(mapping[0]) or [NAME_PLACEHOLDER]
        return [f"{name}.{key}" for name in names for key in beneath]
    return []


def annotation_at(root: type[BaseModel], loc: Sequence[str | int]) -> Any | None:
    """The type of the value at a validation error's location under `root` (None: unknown,
    e.g. inside a union pydantic named by its member)."""
    annotation: Any = root
    for part in loc:
        model = model_of(annotation)
        if model is not None:
            field = model.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
            continue
        mapping = mapping_of(annotation)
        if mapping is not None:
            annotation = mapping[1]
            continue
        members = union_members(annotation)
        sequence = next((m for m in members if get_origin(m) in (list, tuple)), None)
        if sequence is not None and isinstance(part, int):
            annotation = get_args(sequence)[0]
            continue
        return None
    return annotation


def user_loc(root: type[BaseModel], loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """A validation error's location as the user wrote it: pydantic adds a step naming the
    union member it tried (`threshold.constrained-float`, `attributes.email.CustomRule`),
    which is no key of the file."""
    kept: list[str | int] = []
    annotation: Any = root
    for part in loc:
        members = union_members(annotation)
        if len(members) > 1 and isinstance(part, str):
            named = [m for m in members if getattr(m, "__name__", None) == part]
            field_of = [m for m in members if model_of(m) and part in m.model_fields]
            if not field_of:  # a member's tag, not a key
                annotation = named[0] if named else None
                continue
        kept.append(part)
        annotation = annotation_at(root, kept) if annotation is not None else None
    return tuple(kept)
