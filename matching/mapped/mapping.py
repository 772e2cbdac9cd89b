"""The mapping file of `e360 resolve`: which files hold records of one entity, how they are
read, and how their columns map onto the entity's canonical attributes.

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
    csv:                    # CSV files only; the defaults: utf-8, ',', '"'
      encoding: latin-1
      delimiter: ";"
    attributes:             # canonical attribute: input column, or a template of columns
      first_name: fname
      address_line1: "{street_number} {street}"   # blanks dropped with their separator
    extra:                  # further input columns: comparison kind
      occupation: exact     # exact | text | number | date
```

Optional per source: `dayfirst` (default true: 03/04/1980 is 3 April) and `default_region`
(default GB: the country of phone numbers written without one); `csv` takes the keys of the
pipeline's `sources.<s>.csv` (`e360.config.CsvOptions`). Mistakes are reported as
`M.yaml: sources.0.attributes.first_name: reason`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, PrivateAttr, ValidationError

from e360.config import CsvOptions, Section, parse_yaml, validation_reason
from e360.entities import CANONICAL_ATTRIBUTES
from e360.errors import ConfigError
from e360.mappings import template_problem

ExtraKind = Literal["exact", "text", "number", "date"]
FileFormat = Literal["csv", "parquet"]
FORMATS: dict[str, FileFormat] = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
_NOT_SLUG_RE = re.compile(r"[^a-z0-9]+")


class MappedSource(Section):
    """One file of records and how its columns map onto the canonical attributes."""

    # Lower-case names: a record is identified as "<source>:<key>", so no ':' in a name.
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """The source's name: lower-case letters, digits and `_`."""
    path: Path
    """The file, `.csv` or `.parquet`; relative to the mapping file."""
    key: str = Field(min_length=1)
    """The column holding the source's record key (unique within the source)."""
    csv: CsvOptions = CsvOptions()
    """How a CSV file is read: `encoding`, `delimiter`, quoting (as the pipeline's
    `sources.<s>.csv`)."""
    attributes: dict[str, str] = Field(default_factory=dict)
    """Canonical attribute -> the input column holding it, or a template naming columns in
    braces, e.g. `"{street_number} {street}"` (blank columns dropped with the separator before
    them; `{{`/`}}` are literal braces)."""
    extra: dict[str, ExtraKind] = Field(default_factory=dict)
    """Further input columns, compared by kind: `exact`, `text`, `number` or `date`."""
    dayfirst: bool = True
    """How to read ambiguous dates such as 03/04/1980: true is 3 April."""
    default_region: str = "GB"
    """The country (ISO 3166 alpha-2) of phone numbers written without a country code."""
    one_per_master: bool = False
    """At most one record of this source per master: its records are never compared with each
    other."""

    @property
    def format(self) -> FileFormat:
        return FORMATS[self.path.suffix.lower()]


class Mapping(Section):
    """A mapping file: one entity, the sources holding its records."""

    entity: Literal["customer", "product"]
    """What the records are: customers or products."""
    one_per_source: bool = False
    """Shorthand for `one_per_master` on every source."""
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | Literal["auto"] = "auto"
    """The match probability from which a scored pair is a link; `auto`: chosen from the
    scores."""
    max_comparisons: int | None = Field(default=None, ge=1)
    """Pairs one blocking rule may add before it is left out; null: the entity's default."""
    sources: list[MappedSource] = Field(min_length=1)
    """The files to resolve, one source each."""

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
            lines.append(f"{path}: {key}: {validation_reason(error)}")
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
            elif problem := template_problem(column):
                problems.append(f"{mapping.key_of(i, 'attributes', attribute)}: {problem}")
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
        if "csv" in source.model_fields_set and FORMATS.get(path.suffix.lower()) == "parquet":
            problems.append(f"{mapping.key_of(i, 'csv')}: only CSV files take a csv section")
    return problems
