"""The match-weight waterfall of a pair, from the entity's trained model, and the CLI."""

from __future__ import annotations

import math

import pytest

from e360.cli import main
from e360.config import E360Config
from e360.lake import Lake
from e360.zones import master_table_name
from stewardship.explain import Explainer, ExplainError
from stewardship.store import DecisionStore
from stewardship.users import UserStore


@pytest.mark.parametrize("entity", ["customer", "product"])
def test_the_waterfall_adds_up_to_the_runs_match_weight(
    steward_project: E360Config, entity: str
) -> None:
    lake = Lake.from_config(steward_project)
    explainer = Explainer(steward_project, lake)
    try:
        pairs = lake.read("master", master_table_name(entity, "pairs")).to_pylist()
        comparisons = steward_project.entities[entity].matching.comparisons
        for pair in pairs[:: max(1, len(pairs) // 5)]:
            waterfall = explainer.waterfall(entity, pair["record_id_l"], pair["record_id_r"])
            assert math.isclose(waterfall.match_weight, pair["match_weight"], abs_tol=1e-6)
            assert math.isclose(
                waterfall.match_probability, pair["match_probability"], abs_tol=1e-9
            )
            kinds = [s.kind for s in waterfall.steps]
            assert kinds[0] == "prior" and kinds[-1] == "final"
            assert kinds.count("comparison") == len(comparisons)
            total = sum(s.match_weight for s in waterfall.steps if s.kind != "final")
            assert math.isclose(total, waterfall.match_weight, abs_tol=1e-6)
            assert math.isclose(waterfall.steps[-2].cumulative, total, abs_tol=1e-9)
        assert waterfall.model.startswith(f"{entity}/v")
        with pytest.raises(ExplainError, match="is not in standardized"):
            explainer.waterfall(entity, pairs[0]["record_id_l"], "nowhere:1")
    finally:
        explainer.close()


def test_cli_adds_a_user_with_the_password_from_the_environment(
    steward_project: E360Config, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("E360_STEWARD_PASSWORD", "cli-password-123")
    config = ["-c", str(steward_project.file)]
    monkeypatch.setenv("E360__PROJECT__ROOT", str(steward_project.root))
    assert main(["steward", "add-user", "cli.admin", "--role", "admin", *config]) == 0
    assert main(["steward", "add-user", "cli.admin", "--role", "admin", *config]) == 1
    assert "already exists" in capsys.readouterr().err
    store = DecisionStore.from_config(steward_project)
    try:
        user = UserStore(store).authenticate("cli.admin", "cli-password-123")
        assert user is not None and user.role == "admin"
    finally:
        store.close()
