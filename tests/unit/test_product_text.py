"""Product free text: tokens, quantities, fixed weights, brands, embeddings, MinHash buckets,
and the comparisons' SQL run on DuckDB."""

from __future__ import annotations

from typing import Any

import duckdb
import pyarrow as pa
import pytest

from e360.config import ComparisonConfig
from e360.errors import MatchError
from matching.resolution.comparisons import embedding_cosine, model_number, units, weighted_tokens
from matching.resolution.settings import blocking_rule, comparison
from matching.resolution.splink_adapter import ComparisonCreator
from matching.standardize import (
    embeddings,
    lsh,
    standardize_product,
    standardize_products,
    text_features,
)


def level_sql(creator: ComparisonCreator, dialect: str) -> str:
    """A CASE giving the label of the first level a pair reaches."""
    levels = creator.get_comparison(dialect).comparison_levels
    whens = [
        f"when {lvl.sql_condition} then '{lvl.label_for_charts}'"
        for lvl in levels
        if lvl.sql_condition.strip().upper() != "ELSE"
    ]
    return "case " + " ".join(whens) + " else 'else' end"


def duckdb_level(creator: ComparisonCreator, left: Any, right: Any, arrow_type: pa.DataType) -> str:
    column = creator.get_comparison("duckdb").output_column_name
    table = pa.table(
        {f"{column}_l": pa.array([left], arrow_type), f"{column}_r": pa.array([right], arrow_type)}
    )
    con = duckdb.connect()
    con.register("pairs", table)
    return con.execute(f"select {level_sql(creator, 'duckdb')} from pairs").fetchone()[0]


# Tokens and quantities.


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("16 GB", ["16gb"]),
        ("16GB", ["16gb"]),
        ("16-gb", ["16gb"]),
        ('55" TV', ["55in"]),
        ("5.5 in screen", ["5.5in"]),
        ("5,5 inch", ["5.5in"]),
        ("1080p 4K", ["1080p", "4k"]),
        ("20000 mAh", ["20000mah"]),
        ("SE 425 K", []),  # a one-letter unit must be glued: 425 K is no quantity
        ("Nexus 6P", []),  # p and k are video resolutions only
        ("2160p 8K", ["2160p", "8k"]),
        (None, []),
    ],
)
def test_unit_tokens_are_canonical(written: str | None, expected: list[str]) -> None:
    assert text_features.unit_tokens(written) == expected


def test_text_tokens_glue_quantities_and_codes() -> None:
    tokens = text_features.text_tokens("Sony WH-1000XM4 headphones, 16 GB, SE 425")
    assert "16gb" in tokens and "gb" not in tokens
    assert {"wh", "1000xm4", "wh1000xm4"} <= set(tokens)  # both spellings of the code
    assert "se425" in tokens  # the code written apart


def test_text_tokens_of_a_url_slug_drop_host_query_and_item_id() -> None:
    url = "http://www.shop.com/itm/apple-iphone-6-64gb-gold/261234567890?hash=item3cd2"
    tokens = text_features.text_tokens(url)
    assert {"apple", "iphone", "6", "64gb", "gold"} <= set(tokens)
    assert not {"www", "shop", "com", "261234567890", "hash", "item3cd2"} & set(tokens)


def test_rare_tokens_weigh_more_than_common_words() -> None:
    assert text_features.token_weight("black") == text_features.token_weight("with") == 1
    assert text_features.token_weight("wh1000xm4") > text_features.token_weight("headphones")
    assert text_features.token_information("xq7200zt") > text_features.token_information("camera")


def test_weighted_tokens_repeat_by_weight() -> None:
    rendered = text_features.weighted_tokens(["wh1000xm4", "black", "black"])
    copies = rendered.split()
    assert copies.count("black") == 1 and "black~2" not in copies
    assert len([c for c in copies if c.startswith("wh1000xm4")]) == text_features.token_weight(
        "wh1000xm4"
    )
    assert text_features.weighted_tokens([]) is None


# Brands from titles.


def test_brand_from_title_prefers_the_datas_own_brands() -> None:
    vocabulary = text_features.brand_vocabulary(["Audio-Technica", "Zorblax", None])
    assert text_features.brand_from_title("AUDIO-TECHNICA ATH-M50X", vocabulary) == "Audio-Technica"
    assert text_features.brand_from_title("Headset by zorblax X1", vocabulary) == "Zorblax"


def test_brand_from_title_falls_back_to_known_brands_then_leading_word() -> None:
    assert text_features.brand_from_title("Samsung Galaxy S4 16GB", {}) == "samsung"
    assert text_features.brand_from_title("Audio Technica ATH-M50X", {}) == "audio-technica"
    assert text_features.brand_from_title("Quorvex Q10 speaker", {}) is None
    assert (
        text_features.brand_from_title("Quorvex Q10 speaker", {}, leading_token=True) == "quorvex"
    )
    assert text_features.brand_from_title("55in TV", {}, leading_token=True) is None


def test_standardize_products_fills_brand_from_title_and_embeddings() -> None:
    out = standardize_products(
        [
            {"title": "Zorblax X1 wireless headset 32 GB", "brand": "Zorblax"},
            {"title": "zorblax x1 headset, 32gb"},
            {"title": None},
        ]
    )
    assert out[1]["brand"] == out[0]["brand"] == "zorblax"
    assert "zorblax" not in out[1]["text_tokens"].split()  # compared as the brand
    assert out[0]["units"] == out[1]["units"] == "32gb"
    assert len(out[0]["title_embedding"]) == embeddings.DIMENSIONS
    assert out[2]["title_embedding"] is None and out[2]["title_lsh"] is None


def test_embeddings_are_unit_vectors_and_similar_titles_are_closer() -> None:
    a, b, c = embeddings.embed(
        ["apple iphone 6 64gb gold", "iphone 6 (64 gb) gold", "espresso machine 15 bar"]
    )
    assert embeddings.cosine(a, a) == pytest.approx(1.0, abs=1e-3)
    assert embeddings.cosine(a, b) > embeddings.cosine(a, c)
    assert embeddings.embed(["", None]) == [None, None]


# MinHash buckets.


def test_lsh_buckets_give_a_true_pair_a_shared_bucket() -> None:
    left, right, other = standardize_products(
        [
            {"title": "Veltrix VX-880 Noise Cancelling Headphones Black"},
            {"title": "VELTRIX VX880 noise-cancelling headphones"},
            {"title": "Corvane espresso machine 15 bar"},
        ]
    )
    bands = [k for k in left["title_lsh"] if not k.startswith(lsh.CODE_PREFIX)]
    assert len(bands) == lsh.BANDS
    assert set(bands) & set(right["title_lsh"])
    assert not set(left["title_lsh"]) & set(other["title_lsh"])
    assert lsh.lsh_buckets(["a", "b"]) == lsh.lsh_buckets(["b", "a"])  # fixed, order-free


def test_code_tokens_are_the_model_codes_not_quantities_or_words() -> None:
    tokens = ["k712", "pro", "16gb", "x2", "5.5in", "wh1000xm4", "k712", "2019"]
    assert text_features.code_tokens(tokens) == ["k712", "wh1000xm4"]


def test_a_model_named_only_in_the_description_meets_its_product_by_code() -> None:
    catalogue, offer, sibling = standardize_products(
        [
            {"title": "AKG K712 Pro reference studio headphones", "brand": "AKG"},
            {
                "title": "Open-back over-ear headphones for mixing",
                "description": "AKG model K712, 3 m cable, velour pads",
            },
            {"title": "AKG K702 reference studio headphones", "brand": "AKG"},
        ]
    )
    assert f"{lsh.CODE_PREFIX}k712" in set(catalogue["title_lsh"]) & set(offer["title_lsh"])
    assert f"{lsh.CODE_PREFIX}k702" in sibling["title_lsh"]
    assert not {k for k in sibling["title_lsh"] if k.startswith(lsh.CODE_PREFIX)} & set(
        offer["title_lsh"]
    )
    # neither bands nor codes: no keys at all
    assert lsh.blocking_keys(None, None) is None
    assert lsh.blocking_keys(None, "k712") == [f"{lsh.CODE_PREFIX}k712"]


def test_bucket_probability_rises_with_similarity() -> None:
    assert lsh.bucket_probability(0.1) < 0.2 < 0.9 < lsh.bucket_probability(0.5)


def test_blocking_on_an_array_column_explodes_it() -> None:
    rule = blocking_rule(["title_lsh"])
    assert rule.arrays_to_explode == ["title_lsh"]  # type: ignore[union-attr]
    assert not blocking_rule(["gtin"]).arrays_to_explode  # type: ignore[union-attr]


# The comparisons' SQL on DuckDB.


def test_weighted_tokens_levels_on_duckdb() -> None:
    compare = weighted_tokens("t")
    code = "vx880 vx880~2 vx880~3"
    assert duckdb_level(
        compare, code + " headphones", code + " headphones", pa.string()
    ).startswith("Exact")
    # the rare code shared outweighs a common word differing: 3 of 5 by weight (unweighted,
    # 1 of 3 tokens)
    assert "Jaccard >= 0.45" in duckdb_level(
        compare, code + " headphones", code + " earphones", pa.string()
    )
    # a short catalogue title inside a long listing
    assert "contained" in duckdb_level(
        compare, code, code + " noise cancelling wireless bluetooth", pa.string()
    )
    assert duckdb_level(compare, code + " black", "espresso black", pa.string()) == "else"


def test_units_levels_tell_a_conflict_from_no_overlap() -> None:
    compare = units("u")
    assert duckdb_level(compare, "32gb 5.5in", "32gb 5.5in", pa.string()) == "same quantities"
    assert duckdb_level(compare, "32gb", "64gb", pa.string()) == "a stated quantity differs"
    assert duckdb_level(compare, "32gb 5.5in", "32gb", pa.string()) == "some quantities in common"
    assert duckdb_level(compare, "32gb", "5.5in", pa.string()) == "else"


def test_embedding_cosine_levels_on_duckdb() -> None:
    compare = embedding_cosine("e")
    near, far, other = embeddings.embed(
        ["zorblax x1 wireless headset", "zorblax x1 headset wireless", "cast iron frying pan"]
    )
    vector = pa.list_(pa.float32())
    assert "0.95" in duckdb_level(compare, near, far, vector)
    assert duckdb_level(compare, near, other, vector) == "else"
    assert "null" in duckdb_level(compare, near, None, vector).lower()


def test_new_comparison_types_are_configurable() -> None:
    for kind, column in [
        ("weighted_tokens", "title_weighted"),
        ("units", "units"),
        ("embedding_cosine", "title_embedding"),
    ]:
        created = comparison(ComparisonConfig(type=kind, column=column))
        assert created.get_comparison("duckdb").output_column_name == column


def test_a_one_column_comparison_given_a_column_list_names_the_mistake() -> None:
    for kind in ("jaro_winkler", "date_of_birth"):
        with pytest.raises(MatchError, match=f"a {kind} comparison takes one column"):
            comparison(ComparisonConfig(type=kind, columns=["title"]))


def test_weighted_tokens_with_embedding_lifts_only_pairs_worded_apart() -> None:
    compare = weighted_tokens("t", embedding_column="e")
    vector = pa.list_(pa.float32())
    table = pa.table(
        {
            "t_l": ["wireless noise cancelling headphones"] * 3,
            "t_r": ["bluetooth anc earphones", "cast iron frying pan", "wireless noise headphones"],
            "e_l": pa.array([[1.0, 0.0]] * 3, vector),
            "e_r": pa.array([[0.95, 0.3122]], vector).take([0, 0, 0]).cast(vector),
        }
    )
    table = table.set_column(
        3, "e_r", pa.array([[0.95, 0.3122], [0.0, 1.0], [0.95, 0.3122]], vector)
    )
    con = duckdb.connect()
    con.register("pairs", table)
    levels = [
        r[0] for r in con.execute(f"select {level_sql(compare, 'duckdb')} from pairs").fetchall()
    ]
    # other words, same meaning; other words, other meaning; words overlap: meaning not asked
    assert levels == ["cosine >= 0.9", "else", "weighted Jaccard >= 0.7"]


def test_model_number_levels_include_one_holding_the_other() -> None:
    compare = model_number("m")
    assert duckdb_level(compare, "K712", "2458Z00140K712PRO", pa.string()) == "one holds the other"
    assert duckdb_level(compare, "SL40", "SL40GY", pa.string()) == "one extends the other"
    assert duckdb_level(compare, "X200", "X300", pa.string()) == "else"


def test_a_gtin_field_listing_several_keeps_the_first_valid() -> None:
    out = standardize_product({"title": "x", "gtin": "not-a-gtin, 00615104099692, 00888365000565"})
    assert out["gtin"] == "00615104099692"
    assert standardize_product({"gtin": "4548736112469"})["gtin"] == "04548736112469"


def test_placeholder_model_numbers_are_no_model_numbers() -> None:
    for placeholder in ("Does not apply", "N/A", "none"):
        assert standardize_product({"model_number": placeholder})["model_number"] is None


def test_a_listing_without_title_gets_buckets_from_its_description() -> None:
    with_title, without = standardize_products(
        [
            {"title": "Veltrix VX-880 Noise Cancelling Headphones"},
            {
                "description": "https://shop.example/veltrix-vx880-noise-cancelling-headphones/1234567"
            },
        ]
    )
    assert without["title_lsh"] and set(with_title["title_lsh"]) & set(without["title_lsh"])


def test_weighted_tokens_without_containment_has_no_such_level() -> None:
    labels = [
        lvl.label_for_charts
        for lvl in weighted_tokens("t", containment=None).get_comparison("duckdb").comparison_levels
    ]
    assert not any("contained" in label for label in labels)
    compare = weighted_tokens("t", containment=None)
    code = "vx880 vx880~2 vx880~3"
    # a short title inside a long one is judged by overlap alone: 3 of 7 by weight
    assert "0.25" in duckdb_level(compare, code, code + " edge plus mini pro", pa.string())
