"""`e360 check` on a generated landing folder: the comparisons each blocking rule would add,
counted through Splink on the landed files, equal a brute-force count over every pair."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
import yaml

from demo import generate_demo_data
from e360.cli import main
from e360.config import E360Config, load_config
from orchestration.preflight import estimate_entity, standardized_sample

CUSTOMER_RULES = [["email"], ["phone"], ["postcode", "last_name"], ["dob_year"]]
PRODUCT_RULES = [["gtin"], ["title_lsh"]]


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path) -> Path:
    """The demo's landing folder for 300 customers, nothing ingested, and its config with
    blocking rules a brute force can evaluate."""
    root = tmp_path_factory.mktemp("preflight")
    generate_demo_data(root, customers=300, seed=5)
    data = yaml.safe_load(demo_config_path.read_text())
    data["project"]["root"] = str(root)
    data["entities"]["customer"]["matching"]["blocking_rules"] = CUSTOMER_RULES
    data["entities"]["product"]["matching"]["blocking_rules"] = PRODUCT_RULES
    path = root / "e360.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _brute_force(
    records: list[dict[str, Any]], rules: list[list[str]], exclusive: set[str] = frozenset()
) -> list[int]:
    """Per rule, the pairs it matches and no rule before it does (null never agrees; a list
    column agrees when the lists share a value)."""

    def agree(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return False
        return bool(set(a) & set(b)) if isinstance(a, list) else a == b

    counts = [0] * len(rules)
    for left, right in itertools.combinations(records, 2):
        if left["source"] == right["source"] and left["source"] in exclusive:
            continue
        for i, rule in enumerate(rules):
            if all(agree(left[c], right[c]) for c in rule):
                counts[i] += 1
                break
    return counts


def test_customer_rules_count_every_pair_a_brute_force_finds(landed: Path) -> None:
    config = load_config(landed, environ={})
    table, total, notes = standardized_sample(config, "customer", sample_records=100_000)
    assert notes == [] and total == table.num_rows > 400  # three sources of ~170 rows
    expected = _brute_force(table.to_pylist(), CUSTOMER_RULES)
    estimate = estimate_entity(config, "customer")
    assert (estimate.records, estimate.counted) == (total, total)
    assert [r.comparisons for r in estimate.rules] == expected
    assert all(expected[:3]) and expected[3] > expected[0]  # dob_year alone blocks loosely
    assert [r.rule for r in estimate.rules] == ['["email"]', '["phone"]',
                                                '["postcode", "last_name"]', '["dob_year"]']  # fmt: skip


def test_product_rules_explode_lsh_buckets_and_skip_pairs_within_the_item_master(
    landed: Path,
) -> None:
    config: E360Config = load_config(landed, environ={})
    table, _, _ = standardized_sample(config, "product", sample_records=100_000)
    expected = _brute_force(table.to_pylist(), PRODUCT_RULES, exclusive={"erp"})
    estimate = estimate_entity(config, "product")
    assert [r.comparisons for r in estimate.rules] == expected
    assert expected[1] > 0


def test_above_the_sample_cap_counts_are_scaled_up_and_said_to_be(landed: Path) -> None:
    config = load_config(landed, environ={})
    exact = estimate_entity(config, "customer")
    sampled = estimate_entity(config, "customer", sample_records=250)
    assert (sampled.records, sampled.counted) == (exact.records, 250)
    assert sampled.is_sample and not exact.is_sample
    loose = exact.rules[3].comparisons  # the rule with thousands of pairs: a sample sees it
    assert 0.5 * loose < sampled.rules[3].comparisons < 2 * loose


def test_e360_check_prints_each_rule_and_flags_one_over_the_budget(
    landed: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(landed, environ={})
    exact = estimate_entity(config, "customer")
    assert main(["check", "-c", str(landed)]) == 0
    out = capsys.readouterr().out
    assert f"{landed}: the configuration holds" in out
    assert f"customer: blocking on the landing files ({exact.records:,} records)" in out
    email = next(line for line in out.splitlines() if line.strip().startswith('["email"]'))
    assert email.split()[1] == f"{exact.rules[0].comparisons:,}"
    assert "OVER" not in out

    budget = exact.rules[3].comparisons - 1  # only dob_year is over it
    monkeypatch.setenv("E360__ENTITIES__CUSTOMER__MATCHING__MAX_COMPARISONS", str(budget))
    assert main(["check", "-c", str(landed)]) == 3
    flagged = [line for line in capsys.readouterr().out.splitlines() if "OVER" in line]
    assert len(flagged) == 1 and flagged[0].strip().startswith('["dob_year"]')
    assert f"OVER max_comparisons ({budget:,}): a run leaves it out" in flagged[0]
