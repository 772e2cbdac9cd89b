"""Golden records: each rule, its tie-breaks, and provenance naming the winning record."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from e360.config import CustomRule, EngineSettings, SurvivorshipConfig, SurvivorshipRule
from e360.dataflow import DuckDBDataflow
from e360.errors import MatchError
from e360.sql import quote
from matching.mastering.masters import golden_table
from matching.mastering.survivorship import ranked_members_sql, rule_name
from matching.resolution.engine import dataflow_for

ATTRIBUTES = ("first_name", "email", "address_line1", "gender")


def _members(rows: list[dict]) -> DuckDBDataflow:
    con = duckdb.connect()
    table = pa.Table.from_pylist(
        rows,
        schema=pa.schema(
            [
                ("record_id", pa.string()),
                ("source", pa.string()),
                ("master_id", pa.string()),
                ("source_updated_at", pa.timestamp("us")),
                ("_ingested_at", pa.timestamp("us")),
            ]
            + [(a, pa.string()) for a in ATTRIBUTES]
        ),
    )
    con.register("standardized_members", table)
    return DuckDBDataflow(con)


def _row(record_id: str, day: int, **values: str | None) -> dict:
    return {
        "record_id": record_id,
        "source": record_id.split(":")[0],
        "master_id": "CUS-1",
        "source_updated_at": datetime(2024, 1, day),
        "_ingested_at": datetime(2024, 2, 1),
        **{a: values.get(a) for a in ATTRIBUTES},
    }


ROWS = [
    _row(
        "crm:1", 1, first_name="william", email="old@x.com", address_line1="1 high st", gender="M"
    ),
    _row(
        "web:7", 9, first_name="bill", email="new@x.com", address_line1="1 high street", gender="F"
    ),
    _row("pos:3", 5, first_name=None, email=None, address_line1="flat 2 1 high street", gender="M"),
]


def _golden(config: SurvivorshipConfig, rows: list[dict] = ROWS) -> dict:
    table = golden_table(_members(rows), ATTRIBUTES, config, run_id="r1")
    assert table.num_rows == 1
    return table.to_pylist()[0]


def test_each_attribute_follows_its_rule_and_records_provenance() -> None:
    golden = _golden(
        SurvivorshipConfig(
            default="most_recent",
            source_priority=["crm", "pos", "web"],
            attributes={
                "first_name": "source_priority",
                "address_line1": "most_complete",
                "gender": "most_frequent",
            },
        )
    )
    assert golden["first_name"] == "william"  # crm ranks first
    assert golden["email"] == "new@x.com"  # newest non-null
    assert golden["address_line1"] == "flat 2 1 high street"  # longest
    assert golden["gender"] == "M"  # two of three members say M
    assert golden["member_count"] == 3
    assert golden["sources"] == "crm,pos,web"
    provenance = json.loads(golden["provenance"])
    assert provenance["first_name"] == {
        "record_id": "crm:1",
        "source": "crm",
        "rule": "source_priority",
    }
    assert provenance["email"]["record_id"] == "web:7"
    assert provenance["address_line1"]["record_id"] == "pos:3"
    assert provenance["gender"]["rule"] == "most_frequent"


def test_nulls_never_win_and_a_missing_source_rank_comes_last() -> None:
    golden = _golden(SurvivorshipConfig(default="source_priority", source_priority=["pos"]))
    # pos ranks first but has no first_name: the next source (by recency among unranked) wins.
    assert golden["first_name"] == "bill"
    assert json.loads(golden["provenance"])["first_name"]["record_id"] == "web:7"


@pytest.mark.parametrize(
    ("rule", "expected"),
    [("most_recent", "web:7"), ("most_frequent", "web:7"), ("most_complete", "web:7")],
)
def test_ties_break_by_recency_then_source(rule: str, expected: str) -> None:
    rows = [
        _row("crm:1", 1, email="same@x.com"),
        _row("web:7", 9, email="same@x.com"),
    ]
    golden = _golden(SurvivorshipConfig(default=rule, source_priority=["crm"]), rows)
    assert json.loads(golden["provenance"])["email"]["record_id"] == expected


@pytest.mark.parametrize("rule", ["most_recent", "most_frequent", "most_complete"])
def test_equal_recency_breaks_by_source_order_then_record_id(rule: str) -> None:
    rows = [
        _row("web:7", 5, email="same@x.com"),
        _row("crm:9", 5, email="same@x.com"),
        _row("crm:1", 5, email="same@x.com"),
    ]
    golden = _golden(SurvivorshipConfig(default=rule, source_priority=["crm", "web"]), rows)
    assert json.loads(golden["provenance"])["email"]["record_id"] == "crm:1"


def test_all_null_attribute_has_null_value_and_provenance() -> None:
    rows = [_row("crm:1", 1, first_name="ann"), _row("web:2", 2, first_name="ann")]
    golden = _golden(SurvivorshipConfig(), rows)
    assert golden["email"] is None
    assert json.loads(golden["provenance"])["email"] is None


def _ingested(row: dict, day: int) -> dict:
    return {**row, "_ingested_at": datetime(2024, 2, day)}


def test_non_null_first_keeps_the_value_seen_first_even_when_newer_ones_arrive() -> None:
    rows = [
        _ingested(_row("web:7", 9, email="new@x.com"), 5),
        _ingested(_row("crm:1", 1, email="first@x.com"), 2),
        _ingested(_row("pos:3", 3, email=None), 1),  # seen earliest, but has no value
    ]
    golden = _golden(SurvivorshipConfig(attributes={"email": "non_null_first"}), rows)
    assert golden["email"] == "first@x.com"
    assert json.loads(golden["provenance"])["email"] == {
        "record_id": "crm:1",
        "source": "crm",
        "rule": "non_null_first",
    }


def test_non_null_first_ties_break_by_source_order_then_record_id() -> None:
    rows = [
        _ingested(_row("web:7", 1, email="w@x.com"), 1),
        _ingested(_row("crm:9", 1, email="c9@x.com"), 1),
        _ingested(_row("crm:1", 1, email="c1@x.com"), 1),
    ]
    config = SurvivorshipConfig(default="non_null_first", source_priority=["web", "crm"])
    assert _golden(config, rows)["email"] == "w@x.com"
    config = SurvivorshipConfig(default="non_null_first", source_priority=["crm", "web"])
    assert _golden(config, rows)["email"] == "c1@x.com"


def test_a_custom_expression_picks_the_best_scoring_member() -> None:
    # Prefer work addresses; the rule is data, not code.
    rule = CustomRule(expression="case when email like '%@corp.com' then 1 else 0 end")
    rows = [
        _row("web:7", 9, email="me@gmail.com"),
        _row("crm:1", 1, email="me@corp.com"),
    ]
    golden = _golden(SurvivorshipConfig(attributes={"email": rule}), rows)
    assert golden["email"] == "me@corp.com"
    assert json.loads(golden["provenance"])["email"]["rule"] == "custom"
    ascending = CustomRule(expression="length(email)", descending=False)
    golden = _golden(SurvivorshipConfig(attributes={"email": ascending}), rows)
    assert golden["email"] == "me@corp.com"  # 11 characters against 12


def test_a_custom_expression_tie_breaks_by_recency() -> None:
    rule = CustomRule(expression="1")
    rows = [_row("crm:1", 1, email="old@x.com"), _row("web:7", 9, email="new@x.com")]
    assert _golden(SurvivorshipConfig(attributes={"email": rule}), rows)["email"] == "new@x.com"


def test_a_broken_custom_expression_names_the_attribute() -> None:
    rule = CustomRule(expression="no_such_column > 1")
    with pytest.raises(MatchError, match=r"custom rules of \['email'\]"):
        _golden(SurvivorshipConfig(attributes={"email": rule}))


def test_custom_rules_load_from_yaml_shaped_config() -> None:
    config = SurvivorshipConfig.model_validate(
        {"attributes": {"email": {"expression": "length(email)", "descending": False}}}
    )
    assert config.rule_for("email") == CustomRule(expression="length(email)", descending=False)
    assert config.rule_for("phone") == "most_recent"


# Display values: the winning record's own writing, never another member's.

SHOWN = ("first_name", "address_line1")


def _displayed(rows: list[dict], config: SurvivorshipConfig, masters: int = 1) -> list[dict]:
    """Golden rows of members carrying display columns for SHOWN (`<attr>_display`)."""
    schema = pa.schema(
        [
            ("record_id", pa.string()),
            ("source", pa.string()),
            ("master_id", pa.string()),
            ("source_updated_at", pa.timestamp("us")),
            ("_ingested_at", pa.timestamp("us")),
        ]
        + [(a, pa.string()) for a in ATTRIBUTES]
        + [(f"{a}_display", pa.string()) for a in SHOWN]
    )
    con = duckdb.connect()
    con.register("standardized_members", pa.Table.from_pylist(rows, schema=schema))
    displays = {a: f"{a}_display" for a in SHOWN}
    table = golden_table(DuckDBDataflow(con), ATTRIBUTES, config, run_id="r1", displays=displays)
    assert table.num_rows == masters
    return table.to_pylist()


def _shown_row(record_id: str, day: int, **values: str | None) -> dict:
    return {**_row(record_id, day), **values}


@pytest.mark.parametrize("rule", ["most_frequent", "most_complete", "most_recent"])
def test_the_display_value_is_the_winning_records_own(rule: str) -> None:
    rows = [
        # the most frequent form, most recently written as "José"
        _shown_row("crm:1", 1, first_name="jose", first_name_display="JOSE"),
        _shown_row("web:2", 9, first_name="jose", first_name_display="José"),
        # newest record, but with no first name: its display value must never surface
        _shown_row("pos:3", 20, first_name=None, first_name_display="Pepe"),
    ]
    (golden,) = _displayed(rows, SurvivorshipConfig(attributes={"first_name": rule}))
    assert (golden["first_name"], golden["first_name_display"]) == ("jose", "José")
    assert json.loads(golden["provenance"])["first_name"]["record_id"] == "web:2"


def test_a_longer_display_of_a_losing_record_does_not_win() -> None:
    rows = [
        _shown_row(
            "crm:1",
            1,
            address_line1="flat 2 1 high st",
            address_line1_display="Flat 2, 1 High St",
        ),
        _shown_row(
            "web:2", 9, address_line1="1 high st", address_line1_display="1   High  Street Road"
        ),
    ]
    config = SurvivorshipConfig(attributes={"address_line1": "most_complete"})
    (golden,) = _displayed(rows, config)
    assert golden["address_line1"] == "flat 2 1 high st"
    assert golden["address_line1_display"] == "Flat 2, 1 High St"


def test_value_display_and_provenance_name_one_record_whatever_the_rule() -> None:
    # Many masters of members whose values, writings, times and sources tie in every way a
    # rule can tie: each attribute's value and display value are those of the record its
    # provenance names.
    rng = random.Random(16)
    rows = []
    for m in range(40):
        for i in range(rng.randint(1, 5)):
            source = rng.choice(["crm", "web", "pos"])
            row = _shown_row(f"{source}:{m}-{i}", rng.choice([1, 1, 2, 3]))
            row["master_id"] = f"CUS-{m:02}"
            row["_ingested_at"] = datetime(2024, 2, rng.choice([1, 2]))
            for attribute in SHOWN:
                value = rng.choice([None, "ann", "ann", "anne", "annette"])
                row[attribute] = value
                row[f"{attribute}_display"] = value and rng.choice(
                    [value.upper(), value.title(), f"{value.title()} ({i})"]
                )
            rows.append(row)
    by_id = {row["record_id"]: row for row in rows}
    custom = CustomRule(expression="length(first_name)")
    configs = [
        SurvivorshipConfig(default=rule, source_priority=["web", "crm"])
        for rule in ("source_priority", "most_recent", "most_complete", "most_frequent")
    ]
    configs += [
        SurvivorshipConfig(default="non_null_first"),
        SurvivorshipConfig(attributes=dict.fromkeys(SHOWN, custom)),
    ]
    for config in configs:
        golden = _displayed(rows, config, masters=40)
        for master in golden:
            provenance = json.loads(master["provenance"])
            for attribute in SHOWN:
                named = provenance[attribute]
                if named is None:
                    assert master[attribute] is None and master[f"{attribute}_display"] is None
                    continue
                winner = by_id[named["record_id"]]
                assert winner["master_id"] == master["master_id"]
                got = (master[attribute], master[f"{attribute}_display"])
                assert got == (winner[attribute], winner[f"{attribute}_display"]), (config, master)


def test_members_without_display_columns_give_golden_records_without_them() -> None:
    # a standardized zone written before display values existed
    table = golden_table(
        _members(ROWS), ATTRIBUTES, SurvivorshipConfig(), run_id="r1", displays={"email": "x"}
    )
    assert "x" not in table.column_names and table.column("email").to_pylist() == ["new@x.com"]


# The golden SQL before it ran on Spark too (DuckDB's ordered `first` and `json_object`),
# with the rules' orders as it wrote them, kept as the reference the portable SQL is proven
# against.

_RECENT = "source_updated_at desc nulls last"
_PRIORITY = "_source_rank asc"
_ORDER_BY: dict[str, list[str]] = {
    "source_priority": [_PRIORITY, _RECENT],
    "most_recent": [_RECENT, _PRIORITY],
    "most_complete": ["length(cast({col} as varchar)) desc", _RECENT, _PRIORITY],
    "most_frequent": ["{frequency} desc", _RECENT, _PRIORITY],
    "non_null_first": ["_ingested_at asc", "source_updated_at asc nulls last", _PRIORITY],
}


def _reference_order_by(rule: SurvivorshipRule, column: str) -> str:
    if isinstance(rule, CustomRule):
        direction = "desc" if rule.descending else "asc"
        keys = [f"({rule.expression}) {direction} nulls last", _RECENT, _PRIORITY]
    else:
        keys = [
            key.format(col=quote(column), frequency=quote(column + "__frequency"))
            for key in _ORDER_BY[rule]
        ]
    return ", ".join([*keys, "record_id asc"])


def _reference_golden_records_sql(
    ranked_members: str,
    attributes: Sequence[str],
    rules: Mapping[str, SurvivorshipRule],
    displays: Mapping[str, str],
) -> str:
    selects, outputs, provenance = [], [], []
    for attribute in attributes:
        col, ordering = quote(attribute), _reference_order_by(rules[attribute], attribute)
        winner = quote(attribute + "__winner")
        fields = [f"v := {col}", "r := record_id"]
        if attribute in displays:
            fields.append(f"d := {quote(displays[attribute])}")
        selects.append(
            f"first(struct_pack({', '.join(fields)}) order by {ordering}) "
            f"filter (where {col} is not null) as {winner}"
        )
        outputs.append(f"struct_extract({winner}, 'v') as {col}")
        if attribute in displays:
            outputs.append(f"struct_extract({winner}, 'd') as {quote(displays[attribute])}")
        record = f"struct_extract({winner}, 'r')"
        provenance.append(
            f"'{attribute}', case when {winner} is null then null else "
            f"json_object('record_id', {record}, 'source', split_part({record}, ':', 1), "
            f"'rule', '{rule_name(rules[attribute])}') end"
        )
    survivors = (
        "select master_id,\n    "
        + ",\n    ".join(selects)
        + ",\n    count(*) as member_count,"
        + "\n    string_agg(distinct source, ',' order by source) as sources,"
        + "\n    min(_ingested_at) as first_seen_at,"
        + "\n    max(coalesce(source_updated_at, _ingested_at)) as updated_at"
        + f"\nfrom {ranked_members}\ngroup by master_id"
    )
    return (
        f"select master_id, {', '.join(outputs)}, member_count, sources,\n"
        f"    cast(json_object({', '.join(provenance)}) as varchar) as provenance,\n"
        f"    first_seen_at, updated_at\n"
        f"from ({survivors}) as survivors\norder by master_id"
    )


MEMBERS_SCHEMA = pa.schema(
    [
        ("record_id", pa.string()),
        ("source", pa.string()),
        ("master_id", pa.string()),
        ("source_updated_at", pa.timestamp("us")),
        ("_ingested_at", pa.timestamp("us")),
    ]
    + [(a, pa.string()) for a in ATTRIBUTES]
    + [(f"{a}_display", pa.string()) for a in SHOWN]
)


def random_members(seed: int) -> tuple[pa.Table, SurvivorshipConfig]:
    """Members of 60 masters whose values, times and sources tie and go missing every way a
    rule can meet, with odd record ids, and a config drawing each attribute's rule at random
    (custom ones scoring numbers, text, timestamps and nulls)."""
    rng = random.Random(seed)
    rows = []
    for m in range(60):
        for i in range(rng.randint(1, 6)):
            source = rng.choice(["crm", "web", "pos", "erp"])
            key = rng.choice([f"{m}-{i}", f'{m}-"{i}"', f"{m}-ñ{i}", f"{m}\\{i}"])
            row = _shown_row(f"{source}:{key}", rng.choice([1, 1, 2, 3]))
            row["master_id"] = f"CUS-{m:02}"
            row["source_updated_at"] = rng.choice([None, datetime(2024, 1, rng.randint(1, 3))])
            row["_ingested_at"] = rng.choice(
                [None, *(datetime(2024, 2, d) for d in (1, 1, 2, 2, 2, 2))]
            )
            for attribute in ATTRIBUTES:
                value = rng.choice([None, None, "ann", "ann", "anne", "Zoë", "annette"])
                row[attribute] = value
                if attribute in SHOWN:
                    row[f"{attribute}_display"] = value and rng.choice([value.upper(), value])
            rows.append(row)
    rules: list[SurvivorshipRule] = [
        "source_priority",
        "most_recent",
        "most_complete",
        "most_frequent",
        "non_null_first",
        CustomRule(expression="length(coalesce(email, ''))", descending=seed % 2 == 0),
        CustomRule(expression="first_name", descending=seed % 3 == 0),
        CustomRule(expression="nullif(length(gender), 4)"),
        CustomRule(expression="source_updated_at", descending=seed % 2 == 1),
    ]
    config = SurvivorshipConfig(
        default=rules[seed % 5],
        source_priority=["web", "crm"],
        attributes={a: rng.choice(rules) for a in ATTRIBUTES if rng.random() < 0.6},
    )
    return pa.Table.from_pylist(rows, schema=MEMBERS_SCHEMA), config


@pytest.mark.parametrize("seed", range(12))
def test_golden_records_equal_the_reference_sql_row_for_row(seed: int) -> None:
    members, config = random_members(seed)
    con = duckdb.connect()
    con.register("standardized_members", members)
    displays = {a: f"{a}_display" for a in SHOWN}
    got = golden_table(DuckDBDataflow(con), ATTRIBUTES, config, run_id="r1", displays=displays)
    by_attribute = {a: config.rule_for(a) for a in ATTRIBUTES}
    ranked = ranked_members_sql(
        "standardized_members", ATTRIBUTES, by_attribute, config.source_priority
    )
    want = con.sql(
        _reference_golden_records_sql(f"({ranked}) as ranked", ATTRIBUTES, by_attribute, displays)
    ).to_arrow_table()
    assert got.drop_columns(["run_id"]).to_pylist() == want.to_pylist()
    assert got.schema.remove(got.schema.get_field_index("run_id")).equals(want.schema)


@pytest.mark.spark
def test_spark_picks_the_same_golden_records_as_duckdb(tmp_path: Path) -> None:
    # Struct sort keys, min_by with a filter and dense_rank as sqlglot writes them for Spark:
    # ties, nulls, unicode and backslashes in record ids break the same way there.
    engine = EngineSettings.model_validate(
        {
            "type": "spark",
            "spark_conf": {"spark.master": "local[2]", "spark.sql.shuffle.partitions": "2"},
        }
    )
    spark = dataflow_for(engine, tmp_path)
    displays = {a: f"{a}_display" for a in SHOWN}
    for seed in range(6):
        members, config = random_members(seed)
        duck = DuckDBDataflow()
        spark.register("standardized_members", members)
        duck.register("standardized_members", members)
        on_spark = golden_table(spark, ATTRIBUTES, config, run_id="r1", displays=displays)
        on_duck = golden_table(duck, ATTRIBUTES, config, run_id="r1", displays=displays)
        assert on_spark.schema.equals(on_duck.schema), (on_spark.schema, on_duck.schema)
        assert on_spark.to_pylist() == on_duck.to_pylist(), seed
    spark.drop("standardized_members")
