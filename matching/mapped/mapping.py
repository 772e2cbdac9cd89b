"""The mapping file of `e360 resolve`: which files hold records of one entity, and how their
columns map onto the entity's canonical attributes.

```yaml
entity: customer            # or product
one_per_source: false       # true: every source has one_per_master
threshold: auto             # or a probability: where a scored pair becomes a link
max_comparisons: 50000000   # pairs one blocking rule may add; a rule over it is left out
sources:
  - name: crm
    path: crm.csv           # CSV or Parquet, relative to the mapping file
    key: id                 # the column holding the source's record key
    one_per_master: false   # true: at most one record of this source in a master
    attributes:             # canonical attribute: input column
      first_name: fname
    extra:                  # further input columns: comparison kind
      occupation: exact     # exact | text | number | date
```

Optional per source: `dayfirst` (default true: 03/04/1980 is 3 April) and `default_region`
(default GB: the country of phone numbers written without one). Mistakes are reported as
`M.yaml: sources.0.attributes.first_name: reason`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from e360.config import parse_yaml
from e360.entities import CANONICAL_ATTRIBUTES
from e360.errors import ConfigError

ExtraKind = Literal["exact", "text", "number", "date"]
FileFormat = Literal["csv", "parquet"]
FORMATS: dict[str, FileFormat] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_NOT_SLUG_RE = re.compile(r"[^a-z0-9]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MappedSource(_Strict):
    # Lower-case names: a record is identified as "<source>:<key>", so no ':' in a name.
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    path: Path
    key: str = Field(min_length=1)
    attributes: dict[str, str] = Field(default_factory=dict)
    extra: dict[str, ExtraKind] = Field(default_factory=dict)
    dayfirst: bool = True
    default_region: str = "GB"
    one_per_master: bool = False

    @property
    def format(self) -> FileFormat:
        return FORMATS[self.path.suffix.lower()]


class Mapping(_Strict):
    entity: Literal["customer", "product"]
    one_per_source: bool = False  # shorthand: one_per_master on every source
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | Literal["auto"] = "auto"
    max_comparisons: int | None = Field(default=None, ge=1)  # None: the entity's default
    sources: list[MappedSource] = Field(min_length=1)

    _file: Path = PrivateAttr(default=Path("mapping.yaml"))

    @property
    def file(self) -> Path:
        return self._file

    def path_of(self, source: MappedSource) -> Path:
        """The source's file, relative paths resolved against the mapping file's folder."""
        return source.path if source.path.is_absolute() else self._file.parent / source.path

    def key_of(self, index: int, field: str, *parts: str) -> str:
        """`<file>: sources.<index>.<field>[.<part>]`: where an error about a source points."""
        return f"{self._file}: " + ".".join(("sources", str(index), field, *parts))

    @property
    def exclusive_sources(self) -> frozenset[str]:
        """Sources holding at most one record per master."""
        return frozenset(s.name for s in self.sources if self.one_per_source or s.one_per_master)

    @property
    def mapped_attributes(self) -> set[str]:
        return {attribute for source in self.sources for attribute in source.attributes}

    def extra_columns(self) -> dict[str, ExtraKind]:
        """Extra attribute -> kind: columns of one name (case and punctuation aside) in
        several sources are one attribute, compared across them."""
        return {
            extra_column(name): kind
            for source in self.sources
            for name, kind in source.extra.items()
        }


def extra_column(input_column: str) -> str:
    """The record column an extra input column becomes: prefixed, so it can never collide
    with a standardized column (an extra `title` beside the canonical title)."""
    return "x_" + (_NOT_SLUG_RE.sub("_", input_column.lower()).strip("_") or "column")


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; every problem found is reported, one per line."""
    path = Path(path)
    try:
        data = parse_yaml(path.read_text(encoding="utf-8"))  # duplicate keys refused
    except FileNotFoundError:
        raise ConfigError(f"{path}: mapping file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the mapping file: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ConfigError(f"{path}: {where}invalid YAML: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the mapping file must be a mapping with entity and sources")
    try:
        mapping = Mapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(top level)"
            lines.append(f"{path}: {key}: {error['msg']}")
        raise ConfigError("\n".join(lines)) from None
    mapping._file = path.resolve()
    problems = _problems(mapping)
    if problems:
        raise ConfigError("\n".join(problems))
    return mapping


def _problems(mapping: Mapping) -> list[str]:
    """What a schema cannot check: names, canonical attributes, files, extra kinds."""
    problems: list[str] = []
    canonical = CANONICAL_ATTRIBUTES[mapping.entity]
    seen_names: set[str] = set()
    extra_kinds: dict[str, tuple[str, ExtraKind]] = {}
    for i, source in enumerate(mapping.sources):
        if source.name in seen_names:
            problems.append(f"{mapping.key_of(i, 'name')}: '{source.name}' names two sources")
        seen_names.add(source.name)
        for attribute, column in source.attributes.items():
            if attribute not in canonical:
                problems.append(
                    f"{mapping.key_of(i, 'attributes', attribute)}: not a canonical "
                    f"{mapping.entity} attribute; choose from {', '.join(canonical)} "
                    "(other columns go under `extra`)"
                )
            elif not column or not column.strip():
                problems.append(f"{mapping.key_of(i, 'attributes', attribute)}: name a column")
        if not source.attributes and not source.extra:
            problems.append(
                f"{mapping.key_of(i, 'attributes')}: map at least one column of {source.name}"
            )
        columns_of: dict[str, str] = {}
        for name, kind in source.extra.items():
            column = extra_column(name)
            if column in columns_of:
                problems.append(
                    f"{mapping.key_of(i, 'extra', name)}: the same attribute as "
                    f"'{columns_of[column]}' (extra columns are named case and punctuation aside)"
                )
                continue
            columns_of[column] = name
            first = extra_kinds.setdefault(column, (source.name, kind))
            if first[1] != kind:
                problems.append(
                    f"{mapping.key_of(i, 'extra', name)}: '{kind}' here but '{first[1]}' in "
                    f"source {first[0]}: an extra column is compared one way in every source"
                )
        path = mapping.path_of(source)
        if path.suffix.lower() not in FORMATS:
            problems.append(
                f"{mapping.key_of(i, 'path')}: '{path.name}' is neither .csv nor .parquet"
            )
        elif not path.is_file():
            problems.append(f"{mapping.key_of(i, 'path')}: file not found: {path}")
    return problems
