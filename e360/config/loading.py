"""Loading `e360.yaml`: the YAML parser refusing duplicate keys, `E360__A__B` environment
variables and explicit overrides over the file, validation, and error messages that blame
the file, variable or override that set a wrong value (`<origin>: <dotted.key>: <reason>`).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from e360.config.checks import cross_section_problems
from e360.config.keys import annotation_at, mapping_of, required_keys, user_loc
from e360.config.project import E360Config
from e360.errors import ConfigError

ENV_PREFIX = "E360__"


def load_config(
    path: str | Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> E360Config:
    """Read, override and validate a configuration file.

    `overrides` take dotted keys (`{"project.root": "/tmp/x"}`) and win over the environment,
    which wins over the file. A mistake in an overridden value is blamed on its variable.
    """
    path = Path(path)
    raw = _read_yaml(path)
    env = os.environ if environ is None else environ
    origins: dict[str, str] = {}  # dotted key -> where its value came from, if not the file
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
            dotted = ".".join(part.lower() for part in key[len(ENV_PREFIX) :].split("__"))
            origin = f"environment variable {key}"
            _set_dotted(raw, dotted, _env_value(origin, value), origin=origin)
            origins[dotted] = origin
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value, origin=f"override {dotted}")
        origins[dotted] = f"override {dotted}"

    try:
        config = E360Config.model_validate(raw)
    except ValidationError as exc:
        # Report everything at once: the schema's errors of every section, then the checks
        # across sections run on the sections that did validate.
        errors = _validation_problems(exc)
        broken = _broken_parts(exc)
        partial = _partial_config(raw, broken)
        partial._file = path.resolve()
        errors.extend(_split(p) for p in cross_section_problems(partial, broken=broken))
        raise ConfigError(_blamed_lines(path, errors, origins)) from None
    config._file = path.resolve()
    config._overrides = dict(overrides or {})
    config._fingerprint = hashlib.sha256(
        json.dumps(raw, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    problems = cross_section_problems(config)
    if problems:
        raise ConfigError(_blamed_lines(path, [_split(p) for p in problems], origins))
    return config


def _split(problem: str) -> tuple[str, str]:
    key, _, reason = problem.partition(": ")
    return key, reason


def _blamed_lines(path: Path, problems: list[tuple[str, str]], origins: Mapping[str, str]) -> str:
    """`<origin>: <dotted.key>: <reason>`, each blamed on whoever set its key."""
    return "\n".join(f"{_blamed(path, key, origins)}: {key}: {reason}" for key, reason in problems)


def validation_reason(error: ErrorDetails) -> str:
    """A schema error's reason as a user should read it (without pydantic's `Value error, `
    in front of a validator's own message)."""
    message = error["msg"]
    prefix = "Value error, "
    return message[len(prefix) :] if message.startswith(prefix) else message


def _validation_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """The schema's errors as (dotted key, reason). A missing section is named with every
    required key beneath it, so it is completed in one run, not one level per run."""
    # In the order pydantic found them: a problem, or the parent of missing keys (listed once)
    order: list[tuple[str, str] | _Missing] = []
    missing: dict[tuple[Any, ...], _Missing] = {}
    for error in exc.errors():
        loc = user_loc(E360Config, error["loc"])
        if error["type"] == "missing" and loc:
            if loc[:-1] not in missing:
                missing[loc[:-1]] = _Missing(loc[:-1])
                order.append(missing[loc[:-1]])
            beneath = required_keys(annotation_at(E360Config, loc))
            missing[loc[:-1]].keys.append((str(loc[-1]), beneath))
            continue
        key = _dotted(loc)
        # one line per key: each member of a union fails on its own (a number, or 'auto')
        same = next((i for i, o in enumerate(order) if isinstance(o, tuple) and o[0] == key), None)
        earlier = order[same] if same is not None else None
        if same is None or not isinstance(earlier, tuple):
            order.append((key, validation_reason(error)))
        else:
            order[same] = (key, f"{earlier[1]}; or {validation_reason(error)}")
    problems: list[tuple[str, str]] = []
    for item in order:
        problems.extend(item.problems() if isinstance(item, _Missing) else [item])
    return problems


@dataclass
class _Missing:
    """The required keys missing under one parent, each with the required keys beneath it."""

    parent: tuple[Any, ...]
    keys: list[tuple[str, list[str]]] = dataclasses.field(default_factory=list)

    def problems(self) -> list[tuple[str, str]]:
        if not any(beneath for _, beneath in self.keys):  # plain values
            return [(_dotted((*self.parent, name)), "Field required") for name, _ in self.keys]
        if not self.parent:  # whole sections missing at the top: each named by itself
            return [
                (name, f"missing required keys {', '.join(beneath) or name}")
                for name, beneath in self.keys
            ]
        listed = [f"{name}.{key}" if key else name for name, b in self.keys for key in b or [""]]
        return [(_dotted(self.parent), f"missing required keys {', '.join(listed)}")]


def _dotted(loc: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top level)"


def _broken_parts(exc: ValidationError) -> frozenset[str]:
    """The sections (and entries of `sources` and `entities`) holding a schema error."""
    broken = set()
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        if not loc:
            continue
        field = E360Config.model_fields.get(loc[0])
        entries = field is not None and mapping_of(field.annotation) is not None
        broken.add(".".join(loc[:2]) if entries and len(loc) > 1 else loc[0])
    return frozenset(broken)


def _partial_config(raw: Mapping[str, Any], broken: frozenset[str]) -> E360Config:
    """The configuration of the sections that validated (built without validating the whole,
    which failed): a broken section keeps its defaults, a broken entry is left out."""
    parts: dict[str, Any] = {}
    for name, field in E360Config.model_fields.items():
        mapping = mapping_of(field.annotation)
        value = raw.get(name)
        if mapping is not None:
            entries = value if isinstance(value, dict) and name not in broken else {}
            adapter: TypeAdapter[Any] = TypeAdapter(mapping[1])
            parts[name] = {
                key: adapter.validate_python(entry)
                for key, entry in entries.items()
                if f"{name}.{key}" not in broken
            }
        elif value is not None and name not in broken:
            section: Any = field.annotation
            parts[name] = TypeAdapter(section).validate_python(value)
    return E360Config.model_construct(**parts)


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (plain YAML keeps the
    last one silently, so half a section could be ignored unnoticed)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` then an explicit key: the explicit one wins
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base loader reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key '{key}' (first given on line {first.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    """YAML text as data, duplicate keys refused: the one parser of e360's YAML files."""
    return yaml.load(text, Loader=UniqueKeyLoader)


def yaml_error_location(exc: yaml.YAMLError) -> str:
    """`line L, column C: ` of a YAML error, when it knows."""
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""


def _env_value(origin: str, value: str) -> Any:
    try:
        return parse_yaml(value)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{origin}: not a valid YAML value ({yaml_error_location(exc)}{problem}): "
            f"{value[:80]!r}"
        ) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: {yaml_error_location(exc)}invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return data


def _set_dotted(data: dict[str, Any], dotted: str, value: Any, *, origin: str) -> None:
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{origin}: {dotted}: '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def _blamed(path: Path, dotted: str, origins: Mapping[str, str]) -> str:
    """Who set `dotted`: the override or environment variable that set it (or a section
    holding it), else the file."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        origin = origins.get(".".join(parts[:end]))
        if origin is not None:
            return origin
    return str(path)
