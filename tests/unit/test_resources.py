"""Shipped files: what the wheel carries as package data is what `e360.resources` looks up,
and in a checkout every lookup is the checkout's own file."""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

from e360.config import load_config
from e360.resources import (
    DBT_PROJECT_DIR,
    DEMO_CONFIG,
    INSTALLED,
    dbt_work_dir,
    demo_project_root,
    shipped,
)

REPO = Path(__file__).resolve().parents[2]
DBT_OUTPUT = {"target", "logs", "dbt_packages"}  # dbt's local output: never shipped


def _force_include() -> dict[str, str]:
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    return pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]


def test_every_shipped_file_lands_where_resources_looks() -> None:
    for source, target in _force_include().items():
        assert target == f"e360/_data/{source}", source
        assert (REPO / source).exists(), source


def test_the_wheel_ships_every_tracked_part_of_the_dbt_project() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "dbt_project"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    parts = {Path(f).parts[1] for f in tracked}
    assert parts and not parts & DBT_OUTPUT
    shipped_parts = {Path(s).parts[1] for s in _force_include() if s.startswith("dbt_project/")}
    assert shipped_parts == parts


def test_a_checkout_reads_and_writes_its_own_folders() -> None:
    assert not INSTALLED
    assert DBT_PROJECT_DIR == shipped("dbt_project") == REPO / "dbt_project"
    assert DEMO_CONFIG == REPO / "examples" / "demo" / "e360.yaml"
    assert dbt_work_dir(Path("/elsewhere")) == REPO / "dbt_project" / "target"
    # the demo's root is what its own configuration names: `e360 demo` is unchanged here
    assert demo_project_root() == load_config(DEMO_CONFIG, environ={}).root


def test_a_chosen_project_root_wins_over_the_demo_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.resources import resources_for

    def root(**kwargs: object) -> Path:
        return resources_for("local", str(DEMO_CONFIG), **kwargs)["e360"].config.root

    assert root() == demo_project_root()
    assert root(overrides={"project.root": str(tmp_path / "a")}) == tmp_path / "a"
    # `E360__PROJECT__ROOT=... e360 publish -c <the demo configuration>`
    monkeypatch.setenv("E360__PROJECT__ROOT", str(tmp_path / "b"))
    assert root() == tmp_path / "b"
