"""Configuration: the demo file validates, env overrides apply, mistakes name file and key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from e360.config import load_config
from e360.errors import ConfigError

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "e360.yaml"


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
            "entities.customer.matching.comparisons.9",
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
