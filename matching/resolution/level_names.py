"""Comparison levels in plain words, for the people who read a match explained: "Last name:
similar spelling (Jaro-Winkler ≥ 0.92)", not Splink's `Jaro-Winkler distance of last_name >=
0.92`, and "Last name is rare" for a term-frequency adjustment, not `tf_last_name`.

Derived from the comparisons the configuration builds (`settings.comparison`), level by level,
so a threshold set in `params` reads as configured. Each level is named by its kind and
parameters (Splink's level classes), by the label e360's own comparisons give it
(`comparisons.py`, `customer_comparisons.py`), or, for levels of Splink's library comparisons
on derived columns (an e-mail's user name, a postcode's sector), by the label Splink gives
it, translated here. Levels are keyed as Splink's predictions key them: the comparison's output
column and the comparison vector value (-1 for the null level, then counting down to 0 for
"else").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from e360.config import ComparisonConfig
from matching.resolution.settings import comparison
from matching.resolution.splink_adapter import ComparisonLevelCreator, cll

# Attribute and derived-column names as a steward reads them; any other column is spelt out
# from its name (underscores to spaces).
COLUMN_NAMES = {
    "address": "Address",
    "address_line1": "Street line",
    "address_line2": "Second street line",
    "company_name_tokens": "Company name words",
    "date_of_birth": "Date of birth",
    "email": "E-mail",
    "first_name_last_name": "First and last name",
    "first_name_phonetic": "First name sound",
    "gtin": "GTIN",
    "last_name_phonetic": "Last name sound",
    "national_id": "National id",
    "postcode_area": "Postcode area",
    "sku": "SKU",
    "title_embedding": "Title meaning",
    "title_weighted": "Title",
    "units": "Quantities",
}

# Labels Splink's library comparisons give levels on derived columns (EmailComparison,
# PostcodeComparison, DateOfBirthComparison): what each compares.
SPLINK_LABELS = {
    "Exact match on username": "same user name before the @",
    "Jaro-Winkler >0.88 on username": "similar user name before the @",
    "Exact match on full postcode": "exact match",
    "Exact match on sector": "same postcode sector",
    "Exact match on district": "same postcode district",
    "Exact match on area": "same postcode area",
    "Exact match on date of birth": "exact match",
    "Levenshtein distance <= 1": "one digit different",
}

MISSING = "missing (on one side or both)"
DIFFERENT = "different"


@dataclass(frozen=True)
class Plain:
    """A level in words, and the measure behind them when there is one."""

    words: str
    detail: str | None = None

    @property
    def text(self) -> str:
        return f"{self.words} ({self.detail})" if self.detail else self.words


@dataclass(frozen=True)
class PlainComparison:
    column: str  # Splink's output column, as in predictions and waterfall data
    name: str  # what is compared, e.g. "Last name"
    levels: dict[int, str]  # comparison vector value -> the level in words

    def level(self, value: int | None) -> str:
        if value is None or value not in self.levels:
            return "level not known to this configuration"
        return self.levels[value]

    def term_frequency(self, weight: float) -> str:
        """A term-frequency adjustment: a value rarer than most lifts the weight of
        agreeing on it, a common one lowers it."""
        return f"{self.name} is {'rare' if weight > 0 else 'common'}"


def column_name(column: str) -> str:
    """A column as a steward reads it: `date_of_birth` -> "Date of birth"."""
    if column in COLUMN_NAMES:
        return COLUMN_NAMES[column]
    spelt = column.replace("_", " ").strip()
    return spelt[:1].upper() + spelt[1:]


def plain_comparisons(comparisons: Sequence[ComparisonConfig]) -> dict[str, PlainComparison]:
    """Every configured comparison in plain words, by Splink's output column."""
    plain = [plain_comparison(spec) for spec in comparisons]
    return {p.column: p for p in plain}


def plain_comparison(spec: ComparisonConfig) -> PlainComparison:
    created = comparison(spec)
    column = created.create_output_column_name() or "_".join(spec.input_columns)
    own = _own_columns(spec)
    levels = created.get_configured_comparison_levels()
    value = sum(1 for level in levels if not level.is_null_level) - 1
    names: dict[int, str] = {}
    for level in levels:
        if level.is_null_level:
            names[-1] = _null(level).text
            continue
        names[value] = describe(level, own, dates=_is_date(spec)).text
        value -= 1
    return PlainComparison(column=column, name=column_name(column), levels=names)


def _own_columns(spec: ComparisonConfig) -> tuple[str, ...]:
    """The columns a comparison is about: for person_name the name itself, not the other
    name part or the phonetic key it also reads."""
    if spec.type in ("person_name", "company_name"):
        return tuple(spec.input_columns[:1])
    if spec.type == "address":
        return ()
    return tuple(spec.input_columns)


def _is_date(spec: ComparisonConfig) -> bool:
    return spec.type in ("date_of_birth", "birth_date")


def _null(level: ComparisonLevelCreator) -> Plain:
    return Plain(MISSING if isinstance(level, cll.NullLevel) else "nothing to compare")


def describe(
    level: ComparisonLevelCreator, own: tuple[str, ...] = (), *, dates: bool = False
) -> Plain:
    """One level in words. `own`: the comparison's own columns (an exact match on one of them
    is "exact match"; on another column, "same <column>")."""
    if level.is_null_level:
        return _null(level)
    if isinstance(level, cll.ElseLevel):
        return Plain(DIFFERENT)
    measured = _measured(level, own, dates)
    if isinstance(level, cll.AbsoluteTimeDifferenceLevel | cll.DistanceInKMLevel):
        return measured or Plain(level.create_label_for_charts())  # its parameters say all
    label = getattr(level, "label_for_charts", None)
    if isinstance(level, cll.CustomLevel) or isinstance(label, str):
        label = label if isinstance(label, str) else level.create_label_for_charts()
        if label in SPLINK_LABELS:
            return Plain(SPLINK_LABELS[label], measured.detail if measured else None)
        # e360's own label, in words already ("same sound", "day and month transposed")
        return _translated(label) or Plain(label, measured.detail if measured else None)
    if measured is not None:
        return measured
    if isinstance(level, cll.And | cll.Or):
        return _combined(level, dates)
    label = level.create_label_for_charts()
    return _translated(label) or Plain(label)


def _translated(label: str) -> Plain | None:
    """An e360 level labelled by its measure ("token Jaccard >= 0.6"), in words."""
    for pattern, words in E360_LABELS:
        found = pattern.fullmatch(label)
        if found:
            return words(float(found.group(1)))
    return None


def _measured(level: ComparisonLevelCreator, own: tuple[str, ...], dates: bool) -> Plain | None:
    """A level of one of Splink's kinds, named by its parameters; None for other kinds."""
    if isinstance(level, cll.ExactMatchLevel):
        column = _pure_column(level)
        if column is None:
            return None
        if len(own) == 1 and column == own[0]:
            return Plain("exact match")
        return Plain(f"same {column_name(column).lower()}")
    if isinstance(level, cll.JaroWinklerLevel | cll.JaroLevel):
        threshold = float(level.distance_threshold)
        kind = "Jaro-Winkler" if isinstance(level, cll.JaroWinklerLevel) else "Jaro"
        return Plain(_spelling(threshold), f"{kind} ≥ {threshold:g}")
    if isinstance(level, cll.JaccardLevel):
        threshold = float(level.distance_threshold)
        words = "almost the same characters" if threshold >= 0.9 else "many characters in common"
        return Plain(words, f"Jaccard ≥ {threshold:g}")
    if isinstance(level, cll.DamerauLevenshteinLevel):
        edits = int(level.distance_threshold)
        return Plain(f"{_edits(edits, dates)} or two swapped", f"Damerau-Levenshtein ≤ {edits}")
    if isinstance(level, cll.LevenshteinLevel):
        edits = int(level.distance_threshold)
        return Plain(_edits(edits, dates), f"edit distance ≤ {edits}")
    if isinstance(level, cll.AbsoluteTimeDifferenceLevel):
        amount = float(level.time_threshold_raw)
        metric = str(level.time_metric)
        return Plain(f"within {amount:g} {metric}{'' if amount == 1 else 's'}")
    if isinstance(level, cll.CosineSimilarityLevel):
        threshold = float(level.similarity_threshold)
        return Plain(_meaning(threshold), f"cosine similarity ≥ {threshold:g}")
    if isinstance(level, cll.ColumnsReversedLevel):
        first = column_name(level.col_expression_1.raw_sql_expression).lower()
        second = column_name(level.col_expression_2.raw_sql_expression).lower()
        return Plain(f"{first} and {second} swapped")
    if isinstance(level, cll.DistanceInKMLevel):
        return Plain(f"within {float(level.km_threshold):g} km")
    return None


def _pure_column(level: ComparisonLevelCreator) -> str | None:
    expression = getattr(level, "col_expression", None)
    if expression is None or expression.operations:
        return None
    return str(expression.raw_sql_expression)


def _spelling(threshold: float) -> str:
    if threshold >= 0.9:
        return "similar spelling"
    if threshold >= 0.8:
        return "somewhat similar spelling"
    return "loosely similar spelling"


def _meaning(threshold: float) -> str:
    if threshold >= 0.95:
        return "almost the same meaning"
    if threshold >= 0.85:
        return "close in meaning"
    return "related in meaning"


def _edits(edits: int, dates: bool) -> str:
    unit = "digit" if dates else "character"
    return f"one {unit} different" if edits == 1 else f"up to {edits} {unit}s different"


def _combined(level: cll.And | cll.Or, dates: bool) -> Plain:
    """An AND or OR of levels: "similar spelling on first name and last name" when the parts
    say the same of different columns, else each part with its column."""
    joiner = " and " if isinstance(level, cll.And) else " or "
    parts = []
    for part in level.comparison_levels:
        column = _column_of(part)
        parts.append((describe(part, (column,) if column else (), dates=dates), column))
    columns = [column for _, column in parts]
    if len({p.text for p, _ in parts}) == 1 and all(columns):
        plain = parts[0][0]
        names = joiner.join(column_name(c).lower() for c in columns if c)
        return Plain(f"{plain.words} on {names}", plain.detail)
    return Plain(
        joiner.join(f"{column_name(c).lower()} {p.text}" if c else p.text for p, c in parts)
    )


def _column_of(level: ComparisonLevelCreator) -> str | None:
    expression = getattr(level, "col_expression", None)
    return None if expression is None else str(expression.raw_sql_expression)


def _labelled(words: Callable[[float], str], measure: str) -> Callable[[float], Plain]:
    return lambda t: Plain(words(t), f"{measure} ≥ {t:g}")


# e360's levels labelled by their measure (comparisons.py): the measure, in words.
E360_LABELS: list[tuple[re.Pattern[str], Callable[[float], Plain]]] = [
    (
        re.compile(r"token Jaccard >= ([0-9.]+)"),
        _labelled(lambda t: "most words shared" if t >= 0.5 else "some words shared", "overlap"),
    ),
    (
        re.compile(r"weighted Jaccard >= ([0-9.]+)"),
        _labelled(
            lambda t: (
                "most words shared"
                if t >= 0.6
                else "many words shared"
                if t >= 0.4
                else "some words shared"
            ),
            "rarity-weighted overlap",
        ),
    ),
    (
        re.compile(r"contained >= ([0-9.]+)"),
        _labelled(lambda t: "one mostly inside the other", "share of the shorter one"),
    ),
    (
        re.compile(r"cosine >= ([0-9.]+)"),
        _labelled(lambda t: "other words, the same meaning", "cosine similarity"),
    ),
]
