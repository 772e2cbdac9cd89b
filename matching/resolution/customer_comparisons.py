"""Customer comparisons Splink's library lacks: people under heavy noise, addresses as one
piece of evidence, organisation names.

Built from Splink's own levels (which render per dialect) or DuckDB SQL with
`base_dialect_str`, so Splink translates them for Spark. Each takes its columns in the order
a configuration's `columns:` lists them (see `matching.resolution.settings.comparison`).
"""

from __future__ import annotations

from collections.abc import Callable

from matching.resolution.comparisons import DamerauLevenshteinLevel, pair_column, word_overlap
from matching.resolution.splink_adapter import ComparisonCreator, ComparisonLevelCreator, cl, cll


def _custom(sql: str, label: str) -> ComparisonLevelCreator:
    return cll.CustomLevel(sql, label, base_dialect_str="duckdb")


def person_name(column: str, other: str, phonetic: str) -> ComparisonCreator:
    """A given name or surname: exact; a typo (Jaro-Winkler >= 0.92); the same sound
    (metaphone key: Catherine / Kathryn); exchanged with the other name part (first and last
    swapped); looser spelling (>= 0.88, >= 0.7); else."""
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.JaroWinklerLevel(column, 0.92),
            cll.ExactMatchLevel(phonetic).configure(label_for_charts="same sound"),
            cll.ColumnsReversedLevel(column, other, symmetrical=True),
            cll.JaroWinklerLevel(column, 0.88),
            cll.JaroWinklerLevel(column, 0.7),
            cll.ElseLevel(),
        ],
        output_column_name=column,
        comparison_description="name: exact, typo, same sound, swapped, similar, else",
    )


def birth_date(column: str) -> ComparisonCreator:
    """A date (of birth) as people mistype it: exact; day and month transposed (03/04 read
    as 04/03); one of year, month, day differs (a typo in one part); within a year; else."""
    left, right = pair_column(column, "l"), pair_column(column, "r")

    def same(part: str) -> str:
        return f"{part}({left}) = {part}({right})"

    transposed = f"day({left}) = month({right}) and month({left}) = day({right}) and {same('year')}"
    two_of_three = (
        f"(case when {same('year')} then 1 else 0 end + case when {same('month')} then 1 "
        f"else 0 end + case when {same('day')} then 1 else 0 end) = 2"
    )
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            _custom(transposed, "day and month transposed"),
            _custom(two_of_three, "one of year, month, day differs"),
            cll.AbsoluteDateDifferenceLevel(
                column, input_is_string=False, threshold=1, metric="year"
            ),
            cll.ElseLevel(),
        ],
        output_column_name=column,
        comparison_description="date: exact, day/month transposed, one part differs, 1 year",
    )


def address(
    line1: str, postcode: str, city: str, postcode_area: str, phone: str | None = None
) -> ComparisonCreator:
    """Street line, postcode and city as one piece of evidence, so that a person who moved
    pays once, not once per field: same address; similar line in the same place; similar line
    elsewhere; same postcode; same area (postcode area or city); else. The postcode area is
    the country's own prefix (UK outward code, US ZIP3, ...), see standardize.

    With `phone`, the phone joins them: a household (or an office) shares its address and
    its landline, so among records of *different* people the two agree together far more
    often than apart. Scored as two comparisons, each agreement's weight grows like log n
    (each alone is shared by a few records in n) while the prior shrinks like 1/n only once,
    so a household pair's score rises with the population and members get merged. As one
    comparison the joint agreement is one level with its own u (also ~1/n): the same
    phone at the same address or place; the same phone; a phone one edit apart; then the
    address levels."""

    def line_close() -> ComparisonLevelCreator:
        return cll.JaroWinklerLevel(line1, 0.9)

    def postcode_same() -> ComparisonLevelCreator:
        return cll.ExactMatchLevel(postcode)

    def city_same() -> ComparisonLevelCreator:
        return cll.ExactMatchLevel(city)

    def known(column: str) -> ComparisonLevelCreator:
        return cll.Not(cll.NullLevel(column))

    def same_address() -> ComparisonLevelCreator:
        return cll.And(cll.ExactMatchLevel(line1), cll.Or(postcode_same(), city_same()))

    def same_place() -> ComparisonLevelCreator:
        return cll.And(
            line_close(),
            cll.Or(postcode_same(), city_same(), cll.ExactMatchLevel(postcode_area)),
        )

    comparable = [known(line1), known(postcode), known(city)]
    phone_levels: list[ComparisonLevelCreator] = []
    if phone is not None:
        comparable.append(known(phone))
        phone_same = cll.ExactMatchLevel(phone)
        phone_levels = [
            cll.And(phone_same, same_address()).configure(
                label_for_charts="same phone, same address"
            ),
            cll.And(phone_same, cll.Or(same_place(), postcode_same())).configure(
                label_for_charts="same phone, same place"
            ),
            cll.ExactMatchLevel(phone).configure(label_for_charts="same phone"),
            DamerauLevenshteinLevel(phone, 1).configure(label_for_charts="phone one edit apart"),
        ]
    nothing_comparable = cll.Not(cll.Or(*comparable))
    return cl.CustomComparison(
        comparison_levels=[
            nothing_comparable.configure(is_null_level=True),
            *phone_levels,
            same_address().configure(label_for_charts="same address"),
            same_place().configure(label_for_charts="similar street line, same place"),
            line_close().configure(label_for_charts="similar street line"),
            postcode_same().configure(label_for_charts="same postcode"),
            cll.Or(cll.ExactMatchLevel(postcode_area), city_same()).configure(
                label_for_charts="same area or city"
            ),
            cll.ElseLevel(),
        ],
        output_column_name="address",
        comparison_description="address: line, postcode and city as one"
        + (" with the phone" if phone is not None else ""),
    )


def company_name(column: str, tokens: str) -> ComparisonCreator:
    """An organisation name (company_name() form): exact; the same words in another order;
    a typo (Jaro-Winkler >= 0.92); most words shared (token Jaccard >= 0.5); similar (>= 0.8);
    else."""
    shared = word_overlap(tokens)
    return cl.CustomComparison(
        comparison_levels=[
            cll.NullLevel(column),
            cll.ExactMatchLevel(column),
            cll.ExactMatchLevel(tokens).configure(label_for_charts="same words"),
            cll.JaroWinklerLevel(column, 0.92),
            _custom(f"{shared} >= 0.5", "most words shared"),
            cll.JaroWinklerLevel(column, 0.8),
            cll.ElseLevel(),
        ],
        output_column_name=column,
        comparison_description="company name: exact, same words, typo, shared words, else",
    )


# Comparison type -> builder taking the configured `columns` in order.
CUSTOMER_COMPARISONS: dict[str, Callable[..., ComparisonCreator]] = {
    "person_name": person_name,
    "birth_date": birth_date,
    "address": address,
    "company_name": company_name,
}
# Types that still weigh evidence when only some of their columns are mapped (the others
# stay null and their levels never fire), so a mapping keeps them if any column is usable.
ANY_COLUMN_COMPARISONS = frozenset({"address"})
