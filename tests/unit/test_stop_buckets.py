"""Stop-buckets: LSH buckets of more records than a cap carry no identifying signal and are
taken out of the records before blocking."""

from __future__ import annotations

import itertools
import random

import duckdb
import pyarrow as pa
from splink import DuckDBAPI

from e360.config import MatchingConfig
from matching.resolution.blocking import count_comparisons, without_stop_keys
from matching.resolution.settings import blocking_rule
from matching.standardize import lsh, standardize_products


def _table(keys: list[list[str] | None]) -> pa.Table:
    return pa.table(
        {
            "record_id": [f"r{i}" for i in range(len(keys))],
            "title_lsh": pa.array(keys, pa.list_(pa.string())),
        }
    )


def _pairs(table: pa.Table) -> set[tuple[str, str]]:
    """Pairs sharing a key, by brute force."""
    rows = table.to_pylist()
    return {
        (a["record_id"], b["record_id"])
        for a, b in itertools.combinations(rows, 2)
        if set(a["title_lsh"] or ()) & set(b["title_lsh"] or ())
    }


def test_a_bucket_over_the_cap_gives_no_pairs_one_at_it_all_of_its_pairs() -> None:
    # "big" is held by 4 records, "small" by 3, "own" by one: a cap of 3 keeps all but "big"
    keys = [["big", "small"], ["big", "small"], ["big", "small"], ["big"], ["own"], None]
    bounded = without_stop_keys(_table(keys), _matching(max_bucket_size=3))
    assert bounded.column("title_lsh").to_pylist() == [
        ["small"], ["small"], ["small"], [], ["own"], None
    ]  # fmt: skip
    assert _pairs(bounded) == {("r0", "r1"), ("r0", "r2"), ("r1", "r2")}
    assert bounded.column("record_id") == _table(keys).column("record_id")
    at_cap = without_stop_keys(_table(keys), _matching(max_bucket_size=4))
    assert _pairs(at_cap) == _pairs(_table(keys))  # every bucket within the cap: all pairs


def test_dropping_depends_on_bucket_sizes_only_not_on_order_or_chunks() -> None:
    rng = random.Random(7)
    keys = [[f"{b}:{rng.randrange(6 if b < 2 else 60)}" for b in range(4)] for _ in range(200)]
    table = _table(keys)
    bounded = lsh.drop_stop_buckets(table, "title_lsh", 20)
    order = list(range(200))
    rng.shuffle(order)
    shuffled = lsh.drop_stop_buckets(table.take(order), "title_lsh", 20)
    assert shuffled.to_pylist() == bounded.take(order).to_pylist()
    chunked = pa.concat_tables([table.slice(0, 70), table.slice(70)])
    assert lsh.drop_stop_buckets(chunked, "title_lsh", 20).to_pylist() == bounded.to_pylist()
    sizes: dict[str, int] = {}
    for k in itertools.chain.from_iterable(keys):
        sizes[k] = sizes.get(k, 0) + 1
    for row, kept in zip(keys, bounded.column("title_lsh").to_pylist(), strict=True):
        assert kept == [k for k in row if sizes[k] <= 20]
    assert any(len(k) < 4 for k in bounded.column("title_lsh").to_pylist())  # bands 0-1 crowd


def test_the_default_cap_is_the_block_cap_of_fifty() -> None:
    # a 60-record bucket blocks only when configured to, for buckets or for every key
    keys = [["shared"] for _ in range(60)] + [[f"own{i}"] for i in range(40)]
    assert _pairs(without_stop_keys(_table(keys), _matching())) == set()
    assert len(_pairs(without_stop_keys(_table(keys), _matching(max_bucket_size=60)))) == 1770
    assert len(_pairs(without_stop_keys(_table(keys), _matching(max_block_size=60)))) == 1770
    assert _pairs(without_stop_keys(_table(keys), _matching(max_block_size=50))) == set()


def test_a_sample_is_capped_in_proportion_to_the_whole() -> None:
    keys = [["shared"] for _ in range(30)] + [[f"own{i}"] for i in range(70)]
    # 30 of a 100-record sample stand for 300 of 1,000 records: over the cap of 50
    assert _pairs(without_stop_keys(_table(keys), _matching(), population=1_000)) == set()
    assert len(_pairs(without_stop_keys(_table(keys), _matching()))) == 435


def test_counted_pairs_of_generic_titles_stop_at_the_cap() -> None:
    titles = ["usb charging cable"] * 80 + ["anker powerline usb c cable 2m braided"] * 3
    products = standardize_products([{"title": t} for t in titles])
    table = _table([p["title_lsh"] for p in products])
    records = without_stop_keys(table, _matching())
    registered = DuckDBAPI(duckdb.connect()).register(records, table_name="stop_records")
    (count,) = count_comparisons(registered, [blocking_rule(["title_lsh"])])
    assert count.marginal == 3  # the three braided cables, none of the 3,160 generic pairs


def _matching(**settings: object) -> MatchingConfig:
    return MatchingConfig.model_validate(
        {
            "blocking_rules": [["gtin"], ["title_lsh"]],
            "comparisons": [{"type": "exact", "column": "gtin"}],
            "training": {
                "deterministic_rules": ["l.gtin = r.gtin"],
                "em_blocking_rules": [["gtin"]],
            },
            **settings,
        }
    )
