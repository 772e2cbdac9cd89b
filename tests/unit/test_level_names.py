"""Every comparison a configuration can name reads in plain words, level by level."""

from __future__ import annotations

import re
import typing
from typing import Any

import pytest

from e360.config import ComparisonConfig
from matching.resolution.level_names import plain_comparison, plain_comparisons
from matching.resolution.settings import comparison

# Columns for each type, as the demo configuration gives them.
SPECS: dict[str, dict[str, Any]] = {
    "exact": {"column": "gender"},
    "name": {"column": "last_name", "term_frequency": True},
    "forename_surname": {"columns": ["first_name", "last_name"]},
    "email": {"column": "email"},
    "date_of_birth": {"column": "date_of_birth"},
    "postcode": {"column": "postcode"},
    "levenshtein": {"column": "phone"},
    "damerau_levenshtein": {"column": "phone", "params": {"distance_threshold_or_thresholds": [1]}},
    "jaro_winkler": {"column": "brand"},
    "jaccard": {"column": "brand"},
    "model_number": {"column": "model_number"},
    "token_jaccard": {"column": "title"},
    "weighted_tokens": {"column": "title_weighted"},
    "units": {"column": "units"},
    "embedding_cosine": {"column": "title_embedding"},
    "person_name": {"columns": ["first_name", "last_name", "first_name_phonetic"]},
    "birth_date": {"column": "date_of_birth"},
    "address": {"columns": ["address_line1", "postcode", "city", "postcode_area"]},
    "company_name": {"columns": ["company_name", "company_name_tokens"]},
}
VARIANTS = [
    {"type": "weighted_tokens", "column": "title_weighted", "params": {"embedding_column": "e"}},
    {"type": "weighted_tokens", "column": "t", "params": {"containment": None}},
    {"type": "token_jaccard", "column": "title", "params": {"thresholds": [0.8, 0.5, 0.2]}},
]
# What Splink's own labels look like: SQL-ish operators, column identifiers, its phrases.
LEAKS = re.compile(
    r"[<>]=|_|\bis NULL\b|All other comparisons|Exact match on|distance of|Abs |"
    r"transformed|Term freq|Jaccard >=|cosine >=|username|\bAND\b|\bOR\b|\bNOT\b"
)


def _types() -> tuple[str, ...]:
    return typing.get_args(ComparisonConfig.model_fields["type"].annotation)


def test_every_comparison_type_has_columns_here() -> None:
    assert set(SPECS) == set(_types())


@pytest.mark.parametrize(
    "spec",
    [{"type": t, **SPECS[t]} for t in _types()] + VARIANTS,
    ids=lambda s: f"{s['type']}-{s.get('params', '')}",
)
def test_no_splink_label_leaks(spec: dict[str, Any]) -> None:
    config = ComparisonConfig(**spec)
    plain = plain_comparison(config)
    levels = comparison(config).get_configured_comparison_levels()
    assert len(plain.levels) == len(levels)  # one name per level, null included
    assert -1 in plain.levels and 0 in plain.levels
    for name in (plain.name, *plain.levels.values()):
        assert name and not LEAKS.search(name), name
    assert not LEAKS.search(plain.term_frequency(1.5))


def test_levels_say_what_they_measure() -> None:
    names = plain_comparisons(
        [ComparisonConfig(type=t, **SPECS[t]) for t in ("name", "date_of_birth", "email")]
    )
    last, born, email = names["last_name"], names["date_of_birth"], names["email"]
    assert last.name == "Last name"
    assert list(last.levels.values()) == [
        "missing (on one side or both)",
        "exact match",
        "similar spelling (Jaro-Winkler ≥ 0.92)",
        "somewhat similar spelling (Jaro-Winkler ≥ 0.88)",
        "loosely similar spelling (Jaro-Winkler ≥ 0.7)",
        "different",
    ]
    assert born.level(1) == "within 10 years" and born.level(3) == "within 1 month"
    assert email.level(3) == "same user name before the @"
    assert last.term_frequency(2.1) == "Last name is rare"
    assert last.term_frequency(-0.4) == "Last name is common"


def test_params_change_the_words() -> None:
    spec = ComparisonConfig(
        type="levenshtein", column="phone", params={"distance_threshold_or_thresholds": [2]}
    )
    assert plain_comparison(spec).level(1) == "up to 2 characters different (edit distance ≤ 2)"
    swapped = plain_comparison(
        ComparisonConfig(type="forename_surname", **SPECS["forename_surname"])
    )
    assert swapped.name == "First and last name"
    assert "exact match on first name and last name" in swapped.levels.values()
    assert "first name and last name swapped" in swapped.levels.values()
