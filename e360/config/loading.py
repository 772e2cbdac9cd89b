"""Loading `e360.yaml`: the YAML parser refusing duplicate keys, `E360__A__B` environment
variables and explicit overrides over the file, validation, and error messages that blame
the file, variable or override that set a wrong value (`<origin>: <dotted.key>: <reason>`).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from e360.config.checks import cross_section_problems
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
        raise ConfigError(_format_validation_error(path, exc, origins)) from None
    config._file = path.resolve()
    config._overrides = dict(overrides or {})
    config._fingerprint = hashlib.sha256(
        json.dumps(raw, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    _check_references(path, config, origins)
    return config


def _check_references(path: Path, config: E360Config, origins: Mapping[str, str]) -> None:
    """The cross-section checks, each problem blamed on whoever set its key."""
    problems = cross_section_problems(config)
    if problems:
        raise ConfigError(
            "\n".join(f"{_blamed(path, p.split(':', 1)[0], origins)}: {p}" for p in problems)
        )


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


def _format_validation_error(
    path: Path, exc: ValidationError, origins: Mapping[str, str] | None = None
) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"{_blamed(path, key, origins or {})}: {key}: {error['msg']}")
    return "\n".join(lines)
