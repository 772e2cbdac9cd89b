"""The command line: clean errors for bad input, stages run alone, a report per run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from demo import generate_demo_data
from e360.cli import main
from e360.config import load_config
from orchestration.runner import run_pipeline


@pytest.fixture
def project(tmp_path: Path, demo_config_path: Path) -> Path:
    """A copy of the demo configuration rooted in tmp_path, with small generated sources."""
    data = yaml.safe_load(demo_config_path.read_text())
    data["project"]["root"] = str(tmp_path)
    # 60 customers make the generator's 3 malformed rows 7% of a source.
    data["quality"] = {"max_quarantine_rate": 0.2}
    config = tmp_path / "e360.yaml"
    config.write_text(yaml.safe_dump(data))
    generate_demo_data(tmp_path, customers=60, seed=3)
    return config


def test_an_invalid_config_prints_one_clean_error(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "e360.yaml"
    bad.write_text("sources: {crm: {entity: customer, format: xml}}\nentities: {}\n")
    assert main(["ingest", "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}: sources.crm.format" in err
    assert "Traceback" not in err


def test_ingest_alone_lands_files_and_writes_a_report(project: Path, capsys) -> None:
    assert main(["ingest", "--config", str(project)]) == 0
    out = capsys.readouterr().out
    assert "Ingestion" in out and "crm" in out
    reports = list((project.parent / "runs").glob("*/report.json"))
    assert len(reports) == 1
    report = json.loads(reports[0].read_text())
    assert report["stages"] == ["ingest"] and report["status"] == "succeeded"
    assert sum(r["landed"] for r in report["ingest"]) > 0
    assert (reports[0].parent / "e360.log").exists()


def test_unknown_source_is_named(project: Path, capsys) -> None:
    assert main(["ingest", "--config", str(project), "--source", "nope"]) == 1
    assert "unknown source(s) ['nope']" in capsys.readouterr().err


def test_match_before_any_ingest_builds_empty_masters(project: Path, capsys) -> None:
    assert main(["match", "--config", str(project), "--entity", "customer"]) == 0
    report = json.loads(next((project.parent / "runs").glob("*/report.json")).read_text())
    assert report["status"] == "succeeded"
    customer = report["entities"]["customer"]
    assert (customer["records"], customer["masters"], customer["model_version"]) == (0, 0, None)


def test_publish_before_match_fails_at_the_gate_with_one_clean_line(project: Path, capsys):
    assert main(["publish", "--config", str(project)]) == 1
    err = capsys.readouterr().err
    assert "referential_integrity" in err and "run `e360 match` first" in err
    assert "Traceback" not in err


def _error_lines(err: str) -> list[str]:
    assert "Traceback" not in err
    return [line for line in err.splitlines() if line.strip()]


def test_an_override_that_is_not_yaml_is_one_line_naming_the_variable(
    project: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("E360__DEPLOYMENT__ENGINE", "{type: duckdb")
    assert main(["ingest", "--config", str(project)]) == 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith("error: environment variable E360__DEPLOYMENT__ENGINE: not a valid")
    assert not (project.parent / "runs").exists()


def test_a_blocking_rule_on_a_missing_column_fails_before_anything_runs(
    project: Path, capsys
) -> None:
    data = yaml.safe_load(project.read_text())
    data["entities"]["customer"]["matching"]["blocking_rules"].insert(0, "l.emial = r.email")
    project.write_text(yaml.safe_dump(data))
    assert main(["match", "--config", str(project)]) == 1
    lines = _error_lines(capsys.readouterr().err)
    assert lines == [
        f"error: {project}: entities.customer.matching.blocking_rules.0: unknown columns "
        f"['emial']; the columns are {lines[0].split('the columns are ')[1]}"
    ]
    assert "'email'" in lines[0] and "\x1b[" not in lines[0]
    assert not (project.parent / "runs").exists()


def test_a_lake_folder_that_cannot_be_created_is_one_line_naming_it(
    project: Path, capsys, monkeypatch
) -> None:
    blocker = project.parent / "not_a_folder"
    blocker.write_text("a file where the lake's parent folder should be")
    monkeypatch.setenv("E360__PATHS__LAKE", str(blocker / "lake"))
    assert main(["ingest", "--config", str(project)]) == 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith(f"error: {blocker / 'lake'}")


def test_a_catalog_that_cannot_be_opened_names_the_setting(
    project: Path, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("E360__DEPLOYMENT__CATALOG__URI", "nonsense://catalog")
    assert main(["ingest", "status", "--config", str(project)]) == 1
    (line,) = _error_lines(capsys.readouterr().err)
    assert line.startswith(f"error: {project}: deployment.catalog: cannot open the sql catalog")
    assert "nonsense://catalog" in line


def test_train_from_decisions_learns_from_matches_and_non_matches(project: Path, capsys) -> None:
    """Stewards' "match" and "not a match" decisions on scored pairs re-estimate the model on
    its candidate pairs; the new version records what the labels taught."""
    from e360.lake import Lake
    from e360.zones import master_table_name
    from stewardship.store import DecisionStore

    config = load_config(project)
    assert run_pipeline(config, ("ingest", "standardize", "match")).status == "succeeded"
    pairs = Lake.from_config(config).read("master", master_table_name("customer", "pairs"))
    rows = sorted(pairs.to_pylist(), key=lambda r: r["match_probability"])
    store = DecisionStore.from_config(config)
    for row, verdict in ((rows[-1], "match"), (rows[-2], "match"), (rows[0], "no_match")):
        store.decide_pair("customer", row["record_id_l"], row["record_id_r"], verdict, "ann")
    store.close()
    capsys.readouterr()
    assert main(["train", "customer", "--from-decisions", "--config", str(project)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "and 3 steward decisions" in out
    assert "learnt from 2 match and 1 not-a-match labels on" in out
    newest = sorted((config.models_dir / "customer").glob("v*.json"))[-1]
    learnt = json.loads(newest.read_text())["e360"]["labels"]
    assert learnt["matches"] == 2 and learnt["non_matches"] == 1
    assert learnt["outside_candidates"] == 0 and learnt["frame"] == "candidate pairs"
    assert 0 < learnt["prior"] < 1


def test_train_from_decisions_without_any_is_one_line_naming_the_entity(
    project: Path, capsys
) -> None:
    """`--from-decisions` hands the steward store to training: with no decision on the
    current records there is nothing to learn from, and nothing is trained."""
    config = load_config(project)
    run_pipeline(config, ("ingest", "standardize"))
    assert main(["train", "customer", "--from-decisions", "--config", str(project)]) == 1
    err = capsys.readouterr().err
    assert "no steward 'match' or 'no_match' decisions on current customer records" in err
    assert "Traceback" not in err
    assert config.models_dir.is_relative_to(project.parent)
    assert not (config.models_dir / "customer").exists()


REPO = Path(__file__).resolve().parents[2]


def _without_the_venv() -> dict[str, str]:
    """The environment of a shell where the venv is not activated and not on PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "E360_"))}
    venv_bin = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p) != venv_bin
    )
    return env


def test_e360_check_reports_five_mistakes_in_one_run_without_a_traceback(
    tmp_path: Path, demo_config_path: Path
) -> None:
    """Through the installed entry point, as a user runs it."""
    data = yaml.safe_load(demo_config_path.read_text())
    data["sources"]["crm"]["format"] = "xml"
    data["entities"]["customer"]["matching"]["threshold"] = 1.5
    data["entities"]["product"] = {"id_prefix": "PRD"}  # no matching section
    data["stewardship"] = {"auth": "magic"}
    data["sources"]["erp"]["csv"] = {"encoding": "klingon"}
    bad = tmp_path / "e360.yaml"
    bad.write_text(yaml.safe_dump(data))
    e360 = Path(sys.executable).parent / "e360"
    done = subprocess.run(
        [str(e360), "check", "-c", str(bad)],
        capture_output=True, text=True, env=_without_the_venv(), cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    lines = _error_lines(done.stderr)
    assert lines[0].startswith(f"error: {bad}: ")
    assert [line.split(f"{bad}: ")[1].split(": ")[0] for line in lines] == [
        "sources.crm.format",
        "sources.erp.csv.encoding",
        "entities.customer.matching.threshold",
        "entities.product",
        "stewardship.auth",
    ]
    assert lines[3].endswith(
        "missing required keys matching.blocking_rules, matching.comparisons, "
        "matching.training.deterministic_rules, matching.training.em_blocking_rules"
    )

    debug = subprocess.run(
        [str(e360), "--debug", "check", "-c", str(bad)],
        capture_output=True, text=True, env=_without_the_venv(), cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "ConfigError" in debug.stderr
    assert "sources.crm.format" in debug.stderr


def test_a_fault_that_is_no_user_mistake_is_one_line_pointing_at_debug(
    project: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    import orchestration.preflight

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(orchestration.preflight, "blocking_estimates", broken)
    assert main(["check", "-c", str(project)]) == 1
    err = capsys.readouterr().err
    assert _error_lines(err) == ["error: RuntimeError: a bug (run with --debug for the traceback)"]
    assert main(["--debug", "check", "-c", str(project)]) == 1
    assert "Traceback" in capsys.readouterr().err
