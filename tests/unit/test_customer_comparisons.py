"""Customer comparison levels on DuckDB: each generated pair lands in the level meant for it.

The cases are shared with the Spark test (tests/integration/test_spark_engine.py), which
checks that Splink's translation puts every pair in the same level there.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from matching.resolution.comparisons import DamerauLevenshteinAtThresholds
from matching.resolution.customer_comparisons import address, birth_date, company_name, person_name
from matching.resolution.splink_adapter import ComparisonCreator, cl
from matching.standardize import company_name as std_company_name
from matching.standardize import company_name_tokens, phonetic


def _names(first_l: str | None, last_l: str | None, first_r: str | None, last_r: str | None):
    return {
        "first_name_l": first_l,
        "first_name_r": first_r,
        "last_name_l": last_l,
        "last_name_r": last_r,
        "first_name_phonetic_l": phonetic(first_l),
        "first_name_phonetic_r": phonetic(first_r),
    }


def _dates(left: str | None, right: str | None) -> dict[str, Any]:
    def parse(value: str | None) -> dt.date | None:
        return None if value is None else dt.date.fromisoformat(value)

    return {"dob_l": parse(left), "dob_r": parse(right)}


def _address(left: tuple, right: tuple) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for side, (line1, postcode, city) in (("l", left), ("r", right)):
        row[f"address_line1_{side}"] = line1
        row[f"postcode_{side}"] = postcode
        row[f"city_{side}"] = city
        row[f"postcode_area_{side}"] = None if postcode is None else postcode[:3]
    return row


def _contact(left: tuple, right: tuple) -> dict[str, Any]:
    """An address (line, postcode, city) and a phone on each side."""
    row = _address(left[:3], right[:3])
    row["phone_l"], row["phone_r"] = left[3], right[3]
    return row


def _emails(left: str | None, right: str | None) -> dict[str, Any]:
    return {"email_l": left, "email_r": right}


def _company(left: str | None, right: str | None) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for side, raw in (("l", left), ("r", right)):
        name = std_company_name(raw)
        row[f"company_name_{side}"] = name
        row[f"company_name_tokens_{side}"] = company_name_tokens(name)
    return row


HOME = ("12 pinkerton circuit", "2615", "kaleen")
CASES: dict[str, tuple[ComparisonCreator, list[tuple[dict[str, Any], str]]]] = {
    "person_name": (
        person_name("first_name", "last_name", "first_name_phonetic"),
        [
            (_names("john", "smith", "john", "smith"), "exact"),
            (_names("jonathan", "smith", "jonathon", "smith"), "typo"),
            (_names("catherine", "smith", "kathryn", "smith"), "same sound"),
            (_names("john", "smith", "smith", "john"), "swapped"),
            (_names("john", "smith", "mary", "smith"), "else"),
            (_names(None, "smith", "john", "smith"), "null"),
        ],
    ),
    "birth_date": (
        birth_date("dob"),
        [
            (_dates("1980-03-04", "1980-03-04"), "exact"),
            (_dates("1980-03-04", "1980-04-03"), "transposed"),
            (_dates("1980-03-04", "1908-03-04"), "one part"),
            (_dates("1980-03-04", "1980-03-14"), "one part"),
            (_dates("1980-03-04", "1980-11-20"), "within a year"),
            (_dates("1980-03-04", "1990-07-09"), "else"),
            (_dates("1980-03-04", None), "null"),
        ],
    ),
    "address": (
        address("address_line1", "postcode", "city", "postcode_area"),
        [
            (_address(HOME, HOME), "same address"),
            (_address(HOME, ("12 pinkertn circuit", "2615", "kaleen")), "similar, same place"),
            (_address(HOME, ("12 pinkerton circuit", "2616", "kaleem")), "similar, same place"),
            (_address(HOME, ("12 pinkerton circuit", "4000", "brisbane")), "similar line"),
            (_address(HOME, ("3 dawes street", "2615", "kaleen")), "same postcode"),
            (_address(HOME, ("3 dawes street", "2617", "giralang")), "same area"),
            # moved house: every field differs
            (_address(HOME, ("77 moore road", "4870", "cairns")), "else"),
            (_address(HOME, (None, None, None)), "null"),
            # only a postcode mapped: still evidence
            (_address((None, "2615", None), (None, "2615", None)), "same postcode"),
        ],
    ),
    # The phone joins the address: a household shares both, so they are one piece of evidence.
    "address_phone": (
        address("address_line1", "postcode", "city", "postcode_area", "phone"),
        [
            (_contact((*HOME, "0262411234"), (*HOME, "0262411234")), "same phone, address"),
            (
                _contact(
                    (*HOME, "0262411234"), ("12 pinkertn circuit", "2615", "kaleen", "0262411234")
                ),
                "same phone, place",
            ),
            (
                _contact((*HOME, "0262411234"), ("3 dawes street", "2615", "kaleen", "0262411234")),
                "same phone, place",
            ),
            (
                _contact((*HOME, "0262411234"), ("77 moore road", "4870", "cairns", "0262411234")),
                "same phone",
            ),
            (_contact((*HOME, "0262411234"), (*HOME, "0262411243")), "phone edit"),
            # a household member with a phone of their own: the address levels as without one
            (_contact((*HOME, "0262411234"), (*HOME, "0412999888")), "same address"),
            (_contact((*HOME, None), (*HOME, "0412999888")), "same address"),
            (
                _contact((*HOME, "0262411234"), ("3 dawes street", "2615", "kaleen", None)),
                "same postcode",
            ),
            (
                _contact((*HOME, "0262411234"), ("77 moore road", "4870", "cairns", "0412999888")),
                "else",
            ),
            # only phones known: still evidence
            (
                _contact((None, None, None, "0262411234"), (None, None, None, "0262411234")),
                "same phone",
            ),
            (_contact((None, None, None, "0262411234"), (*HOME, None)), "null"),
        ],
    ),
    # e360's bounded form of Splink's comparison (a Levenshtein bound first)
    "damerau_levenshtein": (
        DamerauLevenshteinAtThresholds("email", [1, 2]),
        [
            (_emails("ann@x.com", "ann@x.com"), "exact"),
            (_emails("ann@x.com", "anne@x.com"), "one edit"),
            (_emails("ann.lee@x.com", "ann.ele@x.com"), "one edit"),  # a swap: Levenshtein 2
            (_emails("ann.lee@x.com", "anne.le@x.com"), "two edits"),
            (_emails("ann.lee@x.com", "nan.ele@x.com"), "two edits"),  # two swaps: Levenshtein 4
            (_emails("ann.lee@x.com", "nan.ele@y.com"), "else"),
            (_emails("ann@x.com", "bob.smith@y.org"), "else"),
            (_emails(None, "ann@x.com"), "null"),
        ],
    ),
    "company_name": (
        company_name("company_name", "company_name_tokens"),
        [
            (_company("Acme Widgets Ltd", "ACME WIDGETS LIMITED"), "exact"),
            (_company("The Apple Pan", "Pan Apple"), "same words"),
            (_company("Second Street Grille", "Second Street Grill"), "typo"),
            (_company("Ritz-Carlton Cafe (Buckhead)", "Cafe Ritz-Carlton"), "shared words"),
            (_company("Acme Widgets", "Zenith Bakery"), "else"),
            (_company(None, "Zenith Bakery"), "null"),
        ],
    ),
}
# Expected level, by name, as a position in each comparison's levels (0 = null level).
LEVELS = {
    "person_name": ["null", "exact", "typo", "same sound", "swapped", "jw88", "jw70", "else"],
    "birth_date": ["null", "exact", "transposed", "one part", "within a year", "else"],
    "address": [
        "null",
        "same address",
        "similar, same place",
        "similar line",
        "same postcode",
        "same area",
        "else",
    ],
    "address_phone": [
        "null",
        "same phone, address",
        "same phone, place",
        "same phone",
        "phone edit",
        "same address",
        "similar, same place",
        "similar line",
        "same postcode",
        "same area",
        "else",
    ],
    "company_name": ["null", "exact", "same words", "typo", "shared words", "jw80", "else"],
    "damerau_levenshtein": ["null", "exact", "one edit", "two edits", "else"],
}


def levels_of(creator: ComparisonCreator, rows: list[dict[str, Any]], dialect: str, run) -> list:
    """The level (its position, 0 = null level) each row, one pair of `<column>_l` /
    `<column>_r` values, falls in: Splink's level conditions tried in order."""
    conditions = [lvl.sql_condition for lvl in creator.get_comparison(dialect).comparison_levels]
    whens = " ".join(f"when {c} then {i}" for i, c in enumerate(conditions[:-1]))
    assert conditions[-1] == "ELSE"
    return run(f"select case {whens} else {len(conditions) - 1} end from pairs", rows)


def duckdb_run(sql: str, rows: list[dict[str, Any]]) -> list:
    con = duckdb.connect()
    con.register("pairs", pa.Table.from_pylist(rows))
    return [row[0] for row in con.execute(sql).fetchall()]


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_pair_falls_in_its_level(name: str) -> None:
    creator, cases = CASES[name]
    got = levels_of(creator, [row for row, _ in cases], "duckdb", duckdb_run)
    assert [LEVELS[name][g] for g in got] == [level for _, level in cases]


def test_the_bounded_damerau_levenshtein_levels_select_what_splinks_select() -> None:
    """Random strings and their near copies (swaps, typos, insertions, unicode): at every
    threshold e360's level holds exactly where Splink's own does."""
    rng = random.Random(11)
    alphabet = "abcdeé.@ "

    def near(value: str) -> str:
        chars = list(value)
        for _ in range(rng.randint(0, 4)):
            i = rng.randrange(len(chars) + 1)
            edit = rng.choice(("swap", "sub", "ins", "del"))
            if edit == "swap" and i + 1 < len(chars):
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            elif edit == "sub" and i < len(chars):
                chars[i] = rng.choice(alphabet)
            elif edit == "ins":
                chars.insert(i, rng.choice(alphabet))
            elif chars and i < len(chars):
                del chars[i]
        return "".join(chars)

    words = ["".join(rng.choices(alphabet, k=rng.randint(0, 12))) for _ in range(4000)]
    rows = [_emails(w, near(w) if rng.random() < 0.8 else rng.choice(words)) for w in words]
    for threshold in (1, 2, 3):
        theirs = cl.DamerauLevenshteinAtThresholds("email", [threshold])
        ours = DamerauLevenshteinAtThresholds("email", [threshold])
        expected = levels_of(theirs, rows, "duckdb", duckdb_run)
        assert levels_of(ours, rows, "duckdb", duckdb_run) == expected, threshold
        assert 0.05 < expected.count(2) / len(rows) < 0.95  # both sides of the level occur
    level = ours.get_comparison("duckdb").comparison_levels[2]
    assert (
        level.label_for_charts
        == theirs.get_comparison("duckdb").comparison_levels[2].label_for_charts
    )


def test_level_lists_match_the_comparisons() -> None:
    for name, (creator, _) in CASES.items():
        assert len(creator.get_comparison("duckdb").comparison_levels) == len(LEVELS[name])
