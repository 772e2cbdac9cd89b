"""Stop-keys: a key rule's value held by more records than `matching.max_block_size` blocks
none of them, so each rule's pairs grow linearly with the records (Splink on DuckDB)."""

from __future__ import annotations

import random

import duckdb
import pyarrow as pa
from splink import DuckDBAPI

from e360.config import MatchingConfig
from matching.resolution.blocking import (
    count_comparisons,
    small_blocks,
    within_budget,
    without_stop_keys,
)
from matching.resolution.resolve import record_hashes
from matching.resolution.settings import blocks_on_column, prediction_blocking_rules

FLAG = blocks_on_column(["last_name", "dob_year"])


def _people(rows: list[tuple[str | None, int | None, str | None]]) -> pa.Table:
    last, year, email = zip(*rows, strict=True) if rows else ((), (), ())
    return pa.table(
        {
            "record_id": [f"r{i}" for i in range(len(rows))],
            "last_name": pa.array(last, pa.string()),
            "dob_year": pa.array(year, pa.int32()),
            "email": pa.array(email, pa.string()),
        }
    )


def _matching(**settings: object) -> MatchingConfig:
    return MatchingConfig.model_validate(
        {
            "blocking_rules": [["email"], ["last_name", "dob_year"]],
            "comparisons": [{"type": "exact", "column": "email"}],
            "training": {
                "deterministic_rules": ["l.email = r.email"],
                "em_blocking_rules": [["email"]],
            },
            **settings,
        }
    )


def _pairs(table: pa.Table, matching: MatchingConfig) -> list[int]:
    """Pairs each prediction rule adds, counted exactly by Splink on the records as given."""
    records = DuckDBAPI(duckdb.connect()).register(table, table_name="people")
    rules = prediction_blocking_rules(matching, columns=table.column_names)
    return [c.marginal for c in count_comparisons(records, rules)]


def _crowd(smiths: int) -> pa.Table:
    # `smiths` namesakes born in one year, two of them the same person (one e-mail); a
    # couple of small families beside them
    rows: list[tuple[str | None, int | None, str | None]] = [
        ("smith", 1980, f"s{i}@example.org") for i in range(smiths)
    ]
    rows[1] = ("smith", 1980, "s0@example.org")
    rows += [("okafor", 1975, None), ("okafor", 1975, None), ("lind", 1990, "l@example.org")]
    rows += [(None, 1990, "l@example.org"), ("lind", None, None)]
    return _people(rows)


def test_a_block_over_the_cap_blocks_none_of_its_records_the_other_rules_still_do() -> None:
    table = _crowd(60)
    bounded = without_stop_keys(table, _matching())
    flags = bounded.column(FLAG).to_pylist()
    assert flags == [False] * 60 + [True, True, True, False, False]  # a missing value: no block
    assert bounded.column(blocks_on_column(["email"])).to_pylist() == [
        e is not None for e in table.column("email").to_pylist()
    ]
    email, surname = _pairs(bounded, _matching())
    assert email == 2  # the two Smiths of one address, the two Linds
    assert surname == 1  # the Okafors; none of the C(60, 2) Smith pairs
    # at a cap the block fits under, every pair of the rule is generated again
    email, surname = _pairs(without_stop_keys(table, _matching(max_block_size=60)), _matching())
    assert surname == 60 * 59 // 2 - 1 + 1  # all Smith pairs but the e-mail one, the Okafors
    # records without the flags (a caller that did not mark them) block as configured
    assert _pairs(table, _matching()) == [2, 60 * 59 // 2]


def test_each_record_gets_at_most_cap_minus_one_candidates_per_rule() -> None:
    rng = random.Random(11)
    rows = [(rng.choice("abcdefgh"), rng.randrange(1950, 1953), None) for _ in range(600)]
    table = _people(rows)
    cap = 30
    bounded = without_stop_keys(table, _matching(max_block_size=cap))
    _, pairs = _pairs(bounded, _matching(max_block_size=cap))
    sizes: dict[tuple[str, int], int] = {}
    for key in rows:
        sizes[key[:2]] = sizes.get(key[:2], 0) + 1
    expected = sum(n * (n - 1) // 2 for n in sizes.values() if n <= cap)
    assert pairs == expected
    assert pairs <= len(rows) * (cap - 1) // 2
    assert 0 < pairs < sum(n * (n - 1) // 2 for n in sizes.values())


def test_flags_depend_on_block_sizes_only_not_on_order_or_chunks() -> None:
    rng = random.Random(3)
    rows = [(rng.choice(["a", "b", None]), rng.randrange(3), None) for _ in range(300)]
    table = _people(rows)
    flags = small_blocks(table, ["last_name", "dob_year"], 40).to_pylist()
    order = list(range(300))
    rng.shuffle(order)
    shuffled = small_blocks(table.take(order), ["last_name", "dob_year"], 40).to_pylist()
    assert shuffled == [flags[i] for i in order]
    chunked = pa.concat_tables([table.slice(0, 111), table.slice(111)])
    assert small_blocks(chunked, ["last_name", "dob_year"], 40).to_pylist() == flags
    assert any(flags) and not all(flags)
    for row, flag in zip(rows, flags, strict=True):
        size = sum(1 for r in rows if r[:2] == row[:2])
        assert flag == (row[0] is not None and size <= 40)


def test_a_sample_is_capped_in_proportion_to_the_whole() -> None:
    # 10 namesakes in a 100-record sample stand for 100 in 1,000 records: over the cap of 50
    rows = [("smith", 1980, None)] * 10 + [(f"n{i}", 1980, None) for i in range(90)]
    marked = without_stop_keys(_people(rows), _matching(), population=1_000)
    assert marked.column(FLAG).to_pylist()[:10] == [False] * 10
    assert (
        without_stop_keys(_people(rows), _matching()).column(FLAG).to_pylist()[:10] == [True] * 10
    )


def test_the_budget_reports_rules_as_configured_not_as_run() -> None:
    bounded = without_stop_keys(_crowd(60), _matching())
    records = DuckDBAPI(duckdb.connect()).register(bounded, table_name="budget_people")
    budget = within_budget(records, _matching(), record_count=bounded.num_rows)
    assert [r["rule"] for r in budget.as_dict()["rules"]] == [
        'l."email" = r."email"',
        'l."last_name" = r."last_name" and l."dob_year" = r."dob_year"',
    ]
    assert [r["pairs"] for r in budget.as_dict()["rules"]] == [2, 1]


def test_a_record_whose_block_crosses_the_cap_has_changed_for_an_incremental_run() -> None:
    # 50 namesakes block on their key; a 51st arrives and the block stops blocking: the 50
    # must be rescored (their old pairs on the rule are gone), the Okafors are untouched
    before = [("smith", 1980, f"s{i}@example.org") for i in range(50)] + [("okafor", 1975, None)]
    after = [*before, ("smith", 1980, "new@example.org")]
    hashes = []
    for rows in (before, after):
        table = record_hashes(without_stop_keys(_people(rows), _matching()))
        hashes.append(
            dict(zip(table["record_id"].to_pylist(), table["record_hash"].to_pylist(), strict=True))
        )
    assert {r for r in hashes[0] if hashes[0][r] != hashes[1][r]} == {f"r{i}" for i in range(50)}
