"""Plain Splink on the same mapping, set up the way Splink's own tutorials teach.

What a careful user does after reading the Splink 5 docs, once per dataset family (people,
organisations, products) and not per dataset: light cleaning (trim, lower case, dates to
ISO, phone digits, a full name split in two when a file has no first/last name), comparisons
from `splink.comparison_library` for whichever mapped columns are filled, `block_on` rules,
`estimate_probability_two_random_records_match` from deterministic rules (recall 0.7, the
tutorial's figure), `estimate_u_using_random_sampling`, EM on two blocking rules, `predict`
and `cluster_pairwise_predictions_at_threshold` at 0.95, on DuckDB. The mapping file is read
here with plain YAML, so a key e360 does not know yet never stops this side.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import splink.comparison_library as cl
import yaml
from splink import DuckDBAPI, Linker, SettingsCreator, block_on

from matching.mapped.mapping import extra_column

THRESHOLD = 0.95
DETERMINISTIC_RECALL = 0.7
PERSON_NAMES = ("first_name", "last_name")
DATES = ("date_of_birth",)
_NON_DIGIT = re.compile(r"\D+")
_UK_POSTCODE = re.compile(r"^[a-z]{1,2}[0-9]")
_WORD = re.compile(r"[a-z_][a-z0-9_]*")
SQL_FUNCTIONS = {"substr"}


@dataclass(frozen=True)
class Source:
    name: str
    path: Path
    key: str
    attributes: dict[str, str]
    extra: dict[str, str]
    dayfirst: bool = True


@dataclass(frozen=True)
class Spec:
    """What the plain user takes from the mapping: files, column names, one record per entity."""

    entity: str
    sources: list[Source]
    one_per_entity: bool  # every source holds at most one record per entity
    extra_kinds: dict[str, str] = field(default_factory=dict)

    @property
    def family(self) -> str:
        if self.entity == "product":
            return "product"
        mapped = {a for s in self.sources for a in s.attributes}
        return "organisation" if "company_name" in mapped else "person"


def read_spec(mapping: Path, data_dir: Path) -> Spec:
    data = yaml.safe_load(mapping.read_text(encoding="utf-8"))
    sources = [
        Source(
            name=s["name"],
            path=data_dir / s["path"],
            key=s["key"],
            attributes=dict(s.get("attributes") or {}),
            extra=dict(s.get("extra") or {}),
            dayfirst=s.get("dayfirst", True),
        )
        for s in data["sources"]
    ]
    per_source = [s.get("one_per_master", False) for s in data["sources"]]
    one = bool(data.get("one_per_source")) or all(per_source)
    kinds = {extra_column(n): k for s in sources for n, k in s.extra.items()}
    return Spec(data["entity"], sources, one, kinds)


# Loading and light cleaning.


def read_table(path: Path) -> pd.DataFrame:
    """Every column as text; a malformed CSV line is skipped, as pandas users do."""
    if path.suffix.lower() in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
        return frame.astype("string")
    return pd.read_csv(
        path, dtype="string", on_bad_lines="skip", encoding_errors="replace", keep_default_na=False
    )


def _text(column: pd.Series) -> pd.Series:
    cleaned = column.astype("string").str.strip().str.lower()
    return cleaned.mask(cleaned == "")


def _iso_dates(column: pd.Series, dayfirst: bool) -> pd.Series:
    text = _text(column)
    compact = text.str.fullmatch(r"\d{8}").fillna(False)
    parsed = pd.to_datetime(
        text.where(~compact), errors="coerce", format="mixed", dayfirst=dayfirst
    )
    parsed = parsed.fillna(pd.to_datetime(text.where(compact), errors="coerce", format="%Y%m%d"))
    return parsed.dt.strftime("%Y-%m-%d").astype("string")


def _digits(column: pd.Series, last: int | None = None) -> pd.Series:
    digits = _text(column).str.replace(_NON_DIGIT, "", regex=True)
    if last:
        digits = digits.str[-last:]
    return digits.mask(digits == "")


def source_frame(source: Source) -> pd.DataFrame:
    """One source's records under canonical names (extras as `x_<column>`), cleaned, with
    `unique_id` and `source_dataset`; rows without a key and repeated keys dropped."""
    raw = read_table(source.path)
    frame = pd.DataFrame(index=raw.index)
    for attribute, column in source.attributes.items():
        if column in raw:
            frame[attribute] = raw[column]
    for column in source.extra:
        if column in raw:
            frame[extra_column(column)] = raw[column]
    if "full_name" in frame and not any(n in frame for n in PERSON_NAMES):
        parts = _text(frame["full_name"]).str.split()
        frame["first_name"], frame["last_name"] = parts.str[0], parts.str[-1]
        frame = frame.drop(columns="full_name")
    for column in frame.columns:
        if column in DATES:
            frame[column] = _iso_dates(frame[column], source.dayfirst)
        elif column == "phone":
            frame[column] = _digits(frame[column], last=10)
        elif column == "gtin":
            frame[column] = _digits(frame[column]).str.lstrip("0")
        else:
            frame[column] = _text(frame[column])
    frame["unique_id"] = raw[source.key].astype("string").str.strip()
    frame = frame[frame["unique_id"].notna() & (frame["unique_id"] != "")]
    frame = frame.drop_duplicates("unique_id")
    frame.insert(1, "source_dataset", source.name)
    return frame.reset_index(drop=True)


def frames_for(spec: Spec) -> list[pd.DataFrame]:
    """The sources' frames with one set of columns: a column one file lacks is null there."""
    frames = [source_frame(s) for s in spec.sources]
    columns = list(dict.fromkeys(c for f in frames for c in f.columns))
    return [f.reindex(columns=columns) for f in frames]


def compared_columns(frames: list[pd.DataFrame]) -> list[str]:
    """Columns worth a comparison: filled in at least two files (or in the only one)."""
    need = min(2, len(frames))
    columns = [c for c in frames[0].columns if c not in ("unique_id", "source_dataset")]
    return [c for c in columns if sum(bool(f[c].notna().any()) for f in frames) >= need]


# The recipes: comparisons by canonical attribute, then blocking and training rules.


def _name(c: str) -> Any:
    return cl.NameComparison(c).configure(term_frequency_adjustments=True)


def _jw(c: str) -> Any:
    return cl.JaroWinklerAtThresholds(c, [0.9, 0.7])


def _lev(c: str) -> Any:
    return cl.LevenshteinAtThresholds(c, [1, 2])


def _exact_tf(c: str) -> Any:
    return cl.ExactMatch(c).configure(term_frequency_adjustments=True)


COMPARISONS: dict[str, Callable[[str], Any]] = {
    "first_name": _name,
    "middle_name": _name,
    "last_name": _name,
    "full_name": _name,
    "company_name": lambda c: cl.JaroWinklerAtThresholds(c, [0.95, 0.88, 0.7]),
    "date_of_birth": lambda c: cl.DateOfBirthComparison(
        c, input_is_string=True, datetime_format="%Y-%m-%d"
    ),
    "gender": cl.ExactMatch,
    "email": cl.EmailComparison,
    "phone": _lev,
    "address_line1": _jw,
    "address_line2": _jw,
    "city": _exact_tf,
    "region": cl.ExactMatch,
    "country": cl.ExactMatch,
    "national_id": _lev,
    "title": lambda c: cl.JaroWinklerAtThresholds(c, [0.95, 0.88, 0.7]),
    "brand": _exact_tf,
    "manufacturer": _exact_tf,
    "model_number": _lev,
    "gtin": cl.ExactMatch,
    "sku": cl.ExactMatch,
    "category": cl.ExactMatch,
    "description": _jw,
    "price": cl.ExactMatch,
    "currency": cl.ExactMatch,
}
EXTRA_COMPARISONS: dict[str, Callable[[str], Any]] = {
    "exact": cl.ExactMatch,
    "text": _jw,
    "number": cl.ExactMatch,
    "date": cl.ExactMatch,
}
# Per family: blocking rules for predict, deterministic rules for the prior, EM rules (first
# two available), each a tuple of columns or SQL expressions for `block_on`.
RULES: dict[str, dict[str, list[tuple[str, ...]]]] = {
    "person": {
        "predict": [
            ("first_name", "last_name"),
            ("last_name", "date_of_birth"),
            ("first_name", "date_of_birth"),
            ("national_id",),
            ("email",),
            ("phone",),
            ("postcode", "first_name"),
            ("address_line1", "postcode"),
        ],
        "deterministic": [
            ("first_name", "last_name", "date_of_birth"),
            ("email",),
            ("national_id",),
        ],
        "em": [("first_name", "last_name"), ("date_of_birth",), ("postcode",)],
    },
    "organisation": {
        "predict": [
            ("phone",),
            ("company_name",),
            ("substr(company_name, 1, 3)", "city"),
            ("address_line1",),
            ("email",),
        ],
        "deterministic": [("phone",), ("company_name", "city"), ("email",)],
        "em": [("phone",), ("city",), ("company_name",)],
    },
    "product": {
        "predict": [("gtin",), ("model_number",), ("sku",), ("brand",), ("title",)],
        "deterministic": [("gtin",), ("model_number",), ("title",)],
        "em": [("brand",), ("model_number",), ("title",)],
    },
}


def _uses(rule: tuple[str, ...], columns: set[str]) -> bool:
    """Whether every column a rule names (bare or inside an SQL expression) is compared."""
    named = {word for part in rule for word in _WORD.findall(part)} - SQL_FUNCTIONS
    return named <= columns


def rules(family: str, kind: str, columns: list[str]) -> list[Any]:
    available = set(columns)
    return [block_on(*r) for r in RULES[family][kind] if _uses(r, available)]


def comparisons(spec: Spec, columns: list[str], frames: list[pd.DataFrame]) -> list[Any]:
    made = []
    for column in columns:
        if column in spec.extra_kinds:
            made.append(EXTRA_COMPARISONS[spec.extra_kinds[column]](column))
        elif column == "postcode":
            values = pd.concat([f[column] for f in frames]).dropna()
            uk = values.str.match(_UK_POSTCODE).mean() > 0.5 if len(values) else False
            made.append(cl.PostcodeComparison(column) if uk else _lev(column))
        elif column in COMPARISONS:
            made.append(COMPARISONS[column](column))
    return made


def link_type(spec: Spec) -> str:
    if len(spec.sources) == 1:
        return "dedupe_only"
    return "link_only" if spec.one_per_entity else "link_and_dedupe"


def resolve(spec: Spec) -> tuple[dict[str, str], int]:
    """record_id -> cluster id for every record read, and how many records were read."""
    frames = frames_for(spec)
    columns = compared_columns(frames)
    family = spec.family
    settings = SettingsCreator(
        link_type=link_type(spec),
        comparisons=comparisons(spec, columns, frames),
        blocking_rules_to_generate_predictions=rules(family, "predict", columns),
        retain_intermediate_calculation_columns=False,
    )
    connection = duckdb.connect()
    connection.execute("SET enable_progress_bar = false")  # the harness prints progress
    db_api = DuckDBAPI(connection)
    inputs = [
        db_api.register(f, dataset_display_name=s.name)
        for f, s in zip(frames, spec.sources, strict=True)
    ]
    linker = Linker(inputs if len(inputs) > 1 else inputs[0], settings, log_level=logging.ERROR)
    linker.training.estimate_probability_two_random_records_match(
        rules(family, "deterministic", columns), recall=DETERMINISTIC_RECALL
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=5e6, seed=1)
    for rule in rules(family, "em", columns)[:2]:
        linker.training.estimate_parameters_using_expectation_maximisation(rule)
    predictions = linker.inference.predict(threshold_match_probability=0.2)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=THRESHOLD
    ).as_pandas_dataframe()
    assigned = {
        f"{row.source_dataset}:{row.unique_id}": str(row.cluster_id)
        for row in clusters.itertuples(index=False)
    }
    return assigned, sum(len(f) for f in frames)


def quiet() -> None:
    """Splink logs every training step, and warns of each untrained level; the harness
    prints its own progress."""
    logging.getLogger("splink").setLevel(logging.ERROR)
