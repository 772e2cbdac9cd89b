"""Configuration: the demo file validates, env overrides apply, mistakes name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from e360.config import load_config
from e360.errors import ConfigError

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "e360.yaml"
# Where a comparison appended to the demo's customer list lands.
NEXT_CUSTOMER_COMPARISON = len(
    yaml.safe_load(DEMO.read_text())["entities"]["customer"]["matching"]["comparisons"]
)


def _write(tmp_path: Path, mutate) -> Path:
    data = yaml.safe_load(DEMO.read_text())
    mutate(data)
    path = tmp_path / "e360.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_demo_config_is_valid_and_paths_resolve_against_the_file() -> None:
    config = load_config(DEMO, environ={})
    assert set(config.sources_of("customer")) == {"crm", "ecommerce", "loyalty"}
    assert set(config.sources_of("product")) == {"erp", "marketplace"}
    assert config.root == (DEMO.parent / "../../.e360/demo").resolve()
    assert config.landing_dir == config.root / "landing"
    assert config.id_prefix("customer") == "CUS"
    assert len(config.fingerprint) == 16


def test_environment_overrides_nested_keys_with_yaml_typed_values(tmp_path: Path) -> None:
    config = load_config(
        DEMO,
        environ={
            "E360__ENTITIES__CUSTOMER__MATCHING__THRESHOLD": "0.95",
            "E360__PROJECT__ROOT": str(tmp_path),
            "OTHER": "ignored",
        },
    )
    assert config.entities["customer"].matching.threshold == 0.95
    assert config.root == tmp_path
    assert config.fingerprint != load_config(DEMO, environ={}).fingerprint


def test_explicit_overrides_win_over_environment(tmp_path: Path) -> None:
    config = load_config(
        DEMO,
        overrides={"project.root": str(tmp_path / "a")},
        environ={"E360__PROJECT__ROOT": str(tmp_path / "b")},
    )
    assert config.root == tmp_path / "a"


@pytest.mark.parametrize(
    ("mutate", "key", "reason"),
    [
        (lambda d: d["sources"]["crm"].update(format="xml"), "sources.crm.format", "csv"),
        (lambda d: d["sources"]["crm"].pop("key"), "sources.crm.key", "Field required"),
        (lambda d: d["sources"]["crm"].update(colour="red"), "sources.crm.colour", "not permitted"),
        (
            lambda d: d["sources"]["crm"]["mapping"].update(shoe_size="shoe"),
            "sources.crm.mapping",
            "shoe_size",
        ),
        (
            lambda d: d["sources"]["pos"]["event"].update(customer_source="erp"),
            "sources.pos.event.customer_source",
            "not a customer source",
        ),
        (
            lambda d: d["entities"]["customer"]["matching"]["comparisons"].append(
                {"type": "exact", "column": "favourite_colour"}
            ),
            f"entities.customer.matching.comparisons.{NEXT_CUSTOMER_COMPARISON}",
            "favourite_colour",
        ),
        (
            lambda d: d["entities"]["customer"]["matching"].update(threshold=1.5),
            "entities.customer.matching.threshold",
            "less than or equal to 1",
        ),
        (
            lambda d: d["entities"]["product"]["survivorship"].update(source_priority=["nope"]),
            "entities.product.survivorship.source_priority",
            "'nope' is not a product source",
        ),
        (
            lambda d: d["entities"]["product"]["survivorship"].update(source_priority=["crm"]),
            "entities.product.survivorship.source_priority",
            "'crm' is not a product source",
        ),
        (
            lambda d: d["entities"]["customer"]["matching"].update(pairs_min_probability=0.6),
            "entities.customer.matching.pairs_min_probability",
            "would drop pairs of the review band",
        ),
        (
            lambda d: d["entities"]["customer"]["matching"].update(review_band=[0.5, 0.95]),
            "entities.customer.matching.review_band",
            "must lie below the match threshold",
        ),
        (
            lambda d: d["sources"]["crm"].update(csv={"encoding": "klingon"}),
            "sources.crm.csv.encoding",
            "unknown encoding 'klingon'",
        ),
        (lambda d: d["entities"].pop("product"), "entities", "configure both customer and product"),
        (
            lambda d: d["sources"]["crm"]["mapping"].update(address_line1="{number} {street"),
            "sources.crm.mapping.address_line1",
            "template '{number} {street': '{' at character 10 is not closed",
        ),
        (
            lambda d: d["sources"]["crm"]["mapping"].update(city="{}"),
            "sources.crm.mapping.city",
            "empty braces at character 1: name a column",
        ),
        (
            lambda d: d["sources"]["crm"].update(csv={"delimiter": ";", "quote_char": ";"}),
            "sources.crm.csv",
            "delimiter and quote_char are both ';'",
        ),
        (
            lambda d: d["sources"]["crm"].update(csv={"escape_char": "\n"}),
            "sources.crm.csv",
            "escape_char cannot be a line break",
        ),
    ],
)
def test_mistakes_name_the_file_the_key_and_the_reason(tmp_path, mutate, key, reason) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    message = str(error.value)
    assert f"{path}: {key}" in message
    assert reason in message


def test_yaml_syntax_errors_give_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "e360.yaml"
    path.write_text("sources:\n  crm: [unclosed\n")
    with pytest.raises(ConfigError, match=r"e360.yaml: line \d+, column \d+: invalid YAML"):
        load_config(path, environ={})


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="configuration file not found"):
        load_config(tmp_path / "absent.yaml", environ={})


def _customer(d: dict) -> dict:
    return d["entities"]["customer"]


@pytest.mark.parametrize(
    ("mutate", "key", "reasons"),
    [
        (
            lambda d: _customer(d)["matching"]["blocking_rules"].insert(
                0, "l.emial = r.email and l.phone = r.phone"
            ),
            "entities.customer.matching.blocking_rules.0",
            ["unknown columns ['emial']", "'email'", "'record_id'"],
        ),
        (
            lambda d: _customer(d)["matching"]["blocking_rules"].insert(0, ["email", "postocde"]),
            "entities.customer.matching.blocking_rules.0.1",
            ["unknown columns ['postocde']", "'postcode'"],
        ),
        (
            lambda d: _customer(d)["matching"]["training"]["deterministic_rules"].insert(
                0, "l.email = = r.email"
            ),
            "entities.customer.matching.training.deterministic_rules.0",
            ["not valid SQL"],
        ),
        (
            lambda d: _customer(d)["matching"]["training"]["deterministic_rules"].insert(
                0, "email = r.email"
            ),
            "entities.customer.matching.training.deterministic_rules.0",
            ["['email'] need an l. or r. prefix"],
        ),
        (
            lambda d: _customer(d)["matching"]["training"]["em_blocking_rules"].insert(
                0, ["substr(shoe_size, 1, 2)"]
            ),
            "entities.customer.matching.training.em_blocking_rules.0.0",
            ["unknown columns ['shoe_size']"],
        ),
        (
            lambda d: _customer(d)["survivorship"]["attributes"].update(
                email={"expression": "case when emali like '%@example.com' then 0 else 1 end"}
            ),
            "entities.customer.survivorship.attributes.email.expression",
            ["unknown columns ['emali']", "'source_updated_at'"],
        ),
        (
            lambda d: _customer(d)["survivorship"]["attributes"].update(
                email={"expression": "select 1"}
            ),
            "entities.customer.survivorship.attributes.email.expression",
            ["an expression, not a statement"],
        ),
    ],
)
def test_sql_fragments_are_parsed_and_bound_at_load(tmp_path, mutate, key, reasons) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    message = str(error.value)
    assert f"{path}: {key}: " in message, message
    for reason in reasons:
        assert reason in message, message
    assert "\x1b[" not in message  # no terminal colour codes from the parser


@pytest.mark.parametrize(
    ("mutate", "key", "reason"),
    [
        (
            lambda d: _customer(d)["matching"]["blocking_rules"].insert(
                0, "levenshtien(l.email, r.email) < 2"
            ),
            "entities.customer.matching.blocking_rules.0",
            "DuckDB cannot run it: Catalog Error: Scalar Function with name levenshtien",
        ),
        (
            lambda d: _customer(d)["survivorship"]["attributes"].update(
                email={"expression": "date_of_birth + interval 3 day > email_user * 2"}
            ),
            "entities.customer.survivorship.attributes.email.expression",
            "DuckDB cannot run it: Binder Error",
        ),
    ],
)
def test_sql_fragments_duckdb_cannot_plan_fail_at_load(tmp_path, mutate, key, reason) -> None:
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    (line,) = str(error.value).splitlines()
    assert line.startswith(f"{path}: {key}: {reason}"), line


def test_on_spark_the_fragments_are_parsed_but_not_planned_by_duckdb(tmp_path: Path) -> None:
    def mutate(d: dict) -> None:  # a Spark function DuckDB does not have
        _customer(d)["matching"]["blocking_rules"].append("soundex(l.last_name) = r.name_sort")
        d["deployment"]["engine"] = {"type": "spark"}

    load_config(_write(tmp_path, mutate), environ={})
    with pytest.raises(ConfigError, match="soundex"):
        load_config(_write(tmp_path, mutate), environ={"E360__DEPLOYMENT__ENGINE__TYPE": "duckdb"})


def test_sql_fragments_that_bind_pass(tmp_path: Path) -> None:
    def mutate(d: dict) -> None:
        _customer(d)["matching"]["blocking_rules"].append(
            "list_has_any(list_transform(split(l.email, '@'), lambda x: lower(x)), [r.email_user])"
        )
        _customer(d)["survivorship"]["attributes"].update(
            email={"expression": "coalesce(length(email), 0) + (source = 'crm')::int"}
        )

    load_config(_write(tmp_path, mutate), environ={})


def test_record_columns_agree_with_the_standardized_schema() -> None:
    from e360.entities import RECORD_KEY_COLUMNS, RECORD_LINEAGE_COLUMNS
    from e360.zones import KEY_COLUMNS, LINEAGE_COLUMNS

    assert tuple(name for name, _ in KEY_COLUMNS) == RECORD_KEY_COLUMNS
    assert tuple(name for name, _ in LINEAGE_COLUMNS) == RECORD_LINEAGE_COLUMNS


def test_a_duplicate_key_names_the_file_the_line_and_the_key(tmp_path: Path) -> None:
    text = DEMO.read_text()
    path = tmp_path / "e360.yaml"
    # a second `engine` in the deployment section, 4 lines below the first
    text = text.replace("  engine: {type: duckdb}\n", "  engine: {type: duckdb}\n" * 2, 1)
    path.write_text(text)
    line = text.splitlines().index("  engine: {type: duckdb}") + 1
    with pytest.raises(ConfigError) as error:
        load_config(path, environ={})
    assert str(error.value) == (
        f"{path}: line {line + 1}, column 3: invalid YAML: duplicate key 'engine' "
        f"(first given on line {line})"
    )


def test_merge_keys_may_be_overridden_without_a_duplicate_error(tmp_path: Path) -> None:
    from e360.config import parse_yaml

    data = parse_yaml("base: &b {a: 1, b: 2}\nother:\n  <<: *b\n  b: 3\n")
    assert data["other"] == {"a": 1, "b": 3}
    with pytest.raises(yaml.YAMLError, match="duplicate key 'a'"):
        parse_yaml("x:\n  a: 1\n  a: 2\n")


def test_a_duplicate_key_in_a_resolve_mapping_is_refused(tmp_path: Path) -> None:
    from matching.mapped.mapping import load_mapping

    path = tmp_path / "m.yaml"
    path.write_text("entity: customer\nentity: product\nsources: []\n")
    with pytest.raises(ConfigError, match=rf"{path}: line 2, column 1: .*duplicate key 'entity'"):
        load_mapping(path)


def test_an_override_that_is_not_yaml_names_the_variable_in_one_line() -> None:
    variable = "E360__ENTITIES__CUSTOMER__MATCHING__REVIEW_BAND"
    with pytest.raises(ConfigError) as error:
        load_config(DEMO, environ={variable: "[0.5, 0.9"})
    message = str(error.value)
    assert message.startswith(f"environment variable {variable}: not a valid YAML value")
    assert "\n" not in message


def test_a_bad_override_value_is_blamed_on_its_variable_not_the_file() -> None:
    variable = "E360__DEPLOYMENT__ENGINE__THREADS"
    with pytest.raises(ConfigError) as error:
        load_config(DEMO, environ={variable: "-3"})
    assert str(error.value).startswith(
        f"environment variable {variable}: deployment.engine.threads: "
    )
    variable = "E360__ENTITIES__CUSTOMER__MATCHING__PAIRS_MIN_PROBABILITY"
    with pytest.raises(ConfigError) as error:
        load_config(DEMO, environ={variable: "0.7"})
    assert str(error.value).startswith(
        f"environment variable {variable}: entities.customer.matching.pairs_min_probability: "
    )
    assert str(DEMO) not in str(error.value)


def test_a_mapping_may_combine_columns_and_csv_options_may_set_quoting(tmp_path: Path) -> None:
    def mutate(d: dict) -> None:
        d["sources"]["crm"]["mapping"]["address_line1"] = "{street_number} {street}"
        d["sources"]["crm"]["csv"] = {"encoding": "latin-1", "delimiter": ";", "quote_char": None}

    source = load_config(_write(tmp_path, mutate), environ={}).sources["crm"]
    assert source.mapping["address_line1"] == "{street_number} {street}"
    assert source.csv.quote_char is None and source.csv.double_quote


def _problems(path: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as error:
        load_config(path, environ=environ or {})
    return str(error.value).splitlines()


MATCHING_KEYS = (
    "matching.blocking_rules, matching.comparisons, matching.training.deterministic_rules, "
    "matching.training.em_blocking_rules"
)


def test_a_missing_section_names_every_required_key_beneath_it(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["entities"].update(customer={}))
    assert _problems(path) == [f"{path}: entities.customer: missing required keys {MATCHING_KEYS}"]


def test_a_missing_top_level_section_names_its_keys_by_entity(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d.pop("entities"))
    (line,) = _problems(path)
    assert line.startswith(f"{path}: entities: missing required keys customer.matching.")
    assert "product.matching.training.em_blocking_rules" in line


def test_a_missing_entity_names_what_it_needs(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["entities"].pop("product"))
    line = _problems(path)[0]  # then each product source, which no entity configures
    assert "configure both customer and product (missing ['product']" in line
    assert MATCHING_KEYS in line


def _five_mistakes(d: dict) -> None:
    d["sources"]["crm"]["format"] = "xml"  # schema, sources
    d["entities"]["customer"]["matching"]["threshold"] = 1.5  # schema, entities
    d["stewardship"] = {"auth": "magic"}  # schema, stewardship
    d["entities"]["product"]["survivorship"]["source_priority"] = ["nope"]  # across sections
    d["sources"]["erp"]["csv"] = {"encoding": "klingon"}  # a check on a valid source


def test_five_mistakes_in_different_sections_are_reported_at_once(tmp_path: Path) -> None:
    path = _write(tmp_path, _five_mistakes)
    problems = _problems(path, {"E360__DEPLOYMENT__ENGINE__THREADS": "0"})
    assert sorted(problems) == sorted(
        [
            "environment variable E360__DEPLOYMENT__ENGINE__THREADS: deployment.engine.threads: "
            "Input should be greater than or equal to 1",
            f"{path}: sources.crm.format: Input should be 'csv', 'jsonl', 'parquet' or 'kafka'",
            f"{path}: entities.customer.matching.threshold: Input should be less than or equal "
            "to 1; or Input should be 'auto'",
            f"{path}: stewardship.auth: Input should be 'local' or 'alb_oidc'",
            f"{path}: sources.erp.csv.encoding: unknown encoding 'klingon'",
            f"{path}: entities.product.survivorship.source_priority: 'nope' is not a product "
            "source",
        ]
    )


def test_a_broken_source_is_not_reported_again_where_it_is_referred_to(tmp_path: Path) -> None:
    """`crm` is in the customer survivorship priority; its own error is enough."""
    path = _write(tmp_path, lambda d: d["sources"]["crm"].update(format="xml"))
    assert [p.split(": ")[1] for p in _problems(path)] == ["sources.crm.format"]


def test_a_broken_entity_does_not_make_its_sources_unconfigured(tmp_path: Path) -> None:
    path = _write(tmp_path, lambda d: d["entities"]["customer"].update(id_prefix="c"))
    assert [p.split(": ")[1] for p in _problems(path)] == ["entities.customer.id_prefix"]


def test_an_event_source_referring_to_a_broken_source_is_not_blamed_for_it(tmp_path: Path) -> None:
    """`pos` events point into `loyalty` (and loyalty is in the survivorship priority)."""
    path = _write(tmp_path, lambda d: d["sources"]["loyalty"].update(format="xml"))
    assert [p.split(": ")[1] for p in _problems(path)] == ["sources.loyalty.format"]
