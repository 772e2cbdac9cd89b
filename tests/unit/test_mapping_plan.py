"""The matching settings a mapping allows: the entity's defaults cut to the mapped attributes,
plus comparisons of extra columns."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from e360.errors import MatchError
from matching.mapped.mapping import Mapping, load_mapping
from matching.mapped.plan import (
    default_entity,
    extra_comparison,
    plan_for,
    rule_columns,
    usable_columns,
)
from matching.resolution.settings import prediction_blocking_rules


def _mapping(tmp_path: Path, entity: str, *attribute_sets: dict[str, str], **extra) -> Mapping:
    sources = []
    for i, attributes in enumerate(attribute_sets):
        (tmp_path / f"s{i}.csv").write_text("id\n", encoding="utf-8")
        sources.append(
            {"name": f"s{i}", "path": f"s{i}.csv", "key": "id", "attributes": attributes,
             "extra": extra.get(f"extra{i}", {})}
        )  # fmt: skip
    path = tmp_path / "M.yaml"
    path.write_text(yaml.safe_dump({"entity": entity, "sources": sources}))
    return load_mapping(path)


def _same(attributes: list[str]) -> dict[str, str]:
    return {a: a for a in attributes}


CUSTOMER_ALL = _same(
    [
        "first_name",
        "last_name",
        "date_of_birth",
        "email",
        "phone",
        "address_line1",
        "city",
        "postcode",
        "gender",
        "national_id",
        "company_name",
    ]
)


def test_a_full_mapping_uses_every_default(tmp_path: Path) -> None:
    plan = plan_for(_mapping(tmp_path, "customer", CUSTOMER_ALL))
    defaults = default_entity("customer").matching
    assert plan.matching.blocking_rules == defaults.blocking_rules
    assert plan.matching.comparisons == defaults.comparisons
    assert plan.matching.training == defaults.training
    assert plan.unused == {} and plan.extras == []


def test_rules_and_comparisons_on_unmapped_columns_are_dropped(tmp_path: Path) -> None:
    without_email = {k: v for k, v in CUSTOMER_ALL.items() if k != "email"}
    plan = plan_for(_mapping(tmp_path, "customer", without_email))
    used = [rule_columns(r) for r in plan.matching.blocking_rules]
    assert {"email"} not in used and {"phone"} in used
    assert all("email" not in c.input_columns for c in plan.matching.comparisons)
    training = plan.matching.training
    assert training.deterministic_rules == [
        "l.phone = r.phone and l.last_name = r.last_name",
        "l.phone = r.phone and l.company_name = r.company_name",
    ]
    assert ["email"] not in training.em_blocking_rules
    assert plan.unused["blocking_rules"] == [["email"]]
    assert plan.unused["comparisons"] == [["email"]]


def test_attributes_feed_the_columns_derived_from_them() -> None:
    assert {"first_name", "last_name", "name_sort", "full_name"} <= usable_columns(
        "customer", {"full_name"}
    )
    assert {"dob_year", "date_of_birth"} <= usable_columns("customer", {"date_of_birth"})
    assert "email" not in usable_columns("customer", {"full_name"})
    title_only = usable_columns("product", {"title"})
    assert {"model_number", "title_tokens", "colour"} <= title_only
    assert "gtin" not in title_only


def test_rule_columns_reads_lists_and_sql() -> None:
    assert rule_columns(["first_name", "last_name"]) == {"first_name", "last_name"}
    sql = 'l.brand = r.brand and substr(l."model_number", 1, 3) = substr(r.model_number, 1, 3)'
    assert rule_columns(sql) == {"brand", "model_number"}


def test_deterministic_rules_fall_back_when_no_default_fits(tmp_path: Path) -> None:
    names_and_birth = _same(["first_name", "last_name", "date_of_birth"])
    plan = plan_for(_mapping(tmp_path, "customer", names_and_birth))
    assert plan.matching.training.deterministic_rules == [
        ["first_name", "last_name", "date_of_birth"]
    ]


def test_every_comparison_is_estimated_by_some_em_rule(tmp_path: Path) -> None:
    # Defaults train on [date_of_birth], [email], [phone]; without them EM must block on
    # something else, and never only on the columns a comparison reads.
    plan = plan_for(_mapping(tmp_path, "customer", _same(["full_name", "phone", "gender"])))
    rules = plan.matching.training.em_blocking_rules
    assert rules
    for spec in plan.matching.comparisons:
        assert any(not (rule_columns(r) & set(spec.input_columns)) for r in rules), spec


def test_extra_columns_add_comparisons_by_kind(tmp_path: Path) -> None:
    mapping = _mapping(
        tmp_path,
        "customer",
        _same(["first_name", "last_name"]),
        _same(["first_name", "last_name"]),
        extra0={"Job": "text", "joined": "date", "score": "number", "tier": "exact"},
        extra1={"job": "text"},
    )
    plan = plan_for(mapping)
    kinds = {e.column: e.kind for e in plan.extras}
    assert kinds == {"x_job": "text", "x_joined": "date", "x_score": "number", "x_tier": "exact"}
    names = [c.get_comparison("duckdb").output_column_name for c in plan.comparisons()]
    assert names[-4:] == ["x_job", "x_joined", "x_score", "x_tier"]


@pytest.mark.parametrize(
    ("kind", "levels", "needle"),
    [
        ("exact", 3, "x_a_l"),
        ("text", 6, "jaro_winkler"),
        ("number", 5, "greatest(abs("),
        ("date", 6, "<= 604800"),  # 7 days in seconds
    ],
)
def test_extra_comparison_levels(kind: str, levels: int, needle: str) -> None:
    comparison = extra_comparison("x_a", kind).get_comparison("duckdb")  # type: ignore[arg-type]
    assert len(comparison.comparison_levels) == levels  # null + exact + ... + else
    assert comparison.comparison_levels[0].is_null_level
    assert any(needle in lvl.sql_condition for lvl in comparison.comparison_levels)


def test_one_per_source_blocks_only_across_sources(tmp_path: Path) -> None:
    plan = plan_for(_mapping(tmp_path, "customer", CUSTOMER_ALL))
    rules = prediction_blocking_rules(plan.matching, {"a", "b"})
    assert len(rules) == len(plan.matching.blocking_rules)
    within = "not (l.source = r.source and l.source in ('a', 'b'))"
    sqls = [r.get_blocking_rule("duckdb").blocking_rule_sql for r in rules]
    assert all(sql.endswith(f"and {within}") for sql in sqls)
    assert sqls[0] == f'l."email" = r."email" and {within}'
    # Written in DuckDB's SQL, read by Spark as columns (its double quotes are strings).
    spark = rules[0].get_blocking_rule("spark").blocking_rule_sql
    assert spark.startswith("l.`email` = r.`email`") and "'email'" not in spark


def test_too_few_attributes_to_block_says_what_to_map(tmp_path: Path) -> None:
    mapping = _mapping(tmp_path, "customer", _same(["date_of_birth", "gender"]))
    with pytest.raises(MatchError) as info:
        plan_for(mapping)
    message = str(info.value)
    assert "(date_of_birth, gender) leave no blocking rule" in message
    assert "email; phone; national_id; first_name/full_name + full_name/last_name" in message


def test_one_comparison_is_not_enough(tmp_path: Path) -> None:
    with pytest.raises(MatchError, match=r"only 1 attribute comparison\(s\) possible"):
        plan_for(_mapping(tmp_path, "customer", _same(["email"])))
    # An extra column makes it two.
    plan = plan_for(_mapping(tmp_path, "customer", _same(["email"]), extra0={"job": "text"}))
    assert len(plan.comparisons()) == 2


def test_product_without_gtin_keeps_model_number_matching(tmp_path: Path) -> None:
    plan = plan_for(_mapping(tmp_path, "product", _same(["title", "brand"])))
    columns = [c.input_columns for c in plan.matching.comparisons]
    assert columns == [["model_number"], ["brand"], ["title_weighted"], ["units"], ["colour"]]
    assert plan.matching.training.deterministic_rules == [
        "l.brand = r.brand and l.title_weighted = r.title_weighted"
    ]
    # The fixed m-probabilities of the defaults travel with their comparisons.
    fixed = {c.input_columns[0]: c.m_probabilities for c in plan.matching.comparisons}
    assert fixed["colour"] == [0.97, 0.03]


def test_an_organisation_mapping_keeps_company_address_and_phone_evidence(tmp_path: Path) -> None:
    accounts = _same(["company_name", "address_line1", "city", "phone"])
    plan = plan_for(_mapping(tmp_path, "customer", accounts, accounts))
    types = [c.type for c in plan.matching.comparisons]
    # The phone is weighed with the address (one comparison): a site shares both.
    assert types == ["address", "company_name"]
    assert "phone" in plan.matching.comparisons[0].input_columns
    blocked_on = [rule_columns(r) for r in plan.matching.blocking_rules]
    assert {"company_name_tokens"} in blocked_on and {"phone"} in blocked_on
    assert {"city", "company_name"} in blocked_on and {"address_line1", "city"} in blocked_on
    assert all(not ({"first_name", "last_name"} & columns) for columns in blocked_on)
    assert plan.matching.training.deterministic_rules == [
        "l.phone = r.phone and l.company_name = r.company_name"
    ]


def test_an_address_is_compared_on_whichever_of_its_parts_are_mapped(tmp_path: Path) -> None:
    plan = plan_for(_mapping(tmp_path, "customer", _same(["full_name", "postcode"])))
    assert "address" in [c.type for c in plan.matching.comparisons]
    # the name comparisons read the phonetic keys full_name fills
    assert [c.type for c in plan.matching.comparisons].count("person_name") == 2
    blocked_on = [rule_columns(r) for r in plan.matching.blocking_rules]
    assert {"first_name_phonetic", "last_name_phonetic"} in blocked_on
    assert {"postcode_area", "first_name"} in blocked_on


def test_blocking_defaults_survive_a_typo_in_any_single_field() -> None:
    # For every column, some rule reads neither it nor the columns derived from it.
    derived = {
        "first_name": {"first_name", "first_name_phonetic", "name_sort"},
        "last_name": {"last_name", "last_name_phonetic", "name_sort"},
        "date_of_birth": {"date_of_birth", "dob_year"},
        "postcode": {"postcode", "postcode_area"},
    }
    person_rules = [
        rule_columns(r)
        for r in default_entity("customer").matching.blocking_rules
        if not {"company_name", "company_name_tokens", "email", "phone", "national_id"}
        & rule_columns(r)
    ]
    for column, spoiled in derived.items():
        assert any(not (rule & spoiled) for rule in person_rules), column
