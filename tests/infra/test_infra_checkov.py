"""checkov on the synthesized CloudFormation templates of every environment: no failed check of
HIGH or CRITICAL severity, and no failed check at all unless it is on the reviewed allow-list
(`e360_infra.checkov_accepted`, mirrored in infra/README.md). Runs offline."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from e360_infra.checkov_accepted import ACCEPTED, BLOCKING_SEVERITIES, accepted
from infra_synth import Synthesized

README = Path(__file__).resolve().parents[2] / "infra" / "README.md"


@pytest.fixture(scope="module")
def checkov_failures(
    synthesized: dict[str, Synthesized], tmp_path_factory: pytest.TempPathFactory
) -> list[dict[str, Any]]:
    """One checkov run over `<env>/<Stack>.template.json` for every environment."""
    root = tmp_path_factory.mktemp("checkov")
    for name, synth in synthesized.items():
        (root / name).mkdir()
        for template in synth.outdir.glob("*.template.json"):
            shutil.copy(template, root / name / template.name)
    checkov = Path(sys.executable).with_name("checkov")
    environment = {
        **os.environ,
        # Offline: no platform mappings, guidelines or update checks.
        "BC_SKIP_MAPPING": "TRUE",
        "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
    }
    result = subprocess.run(
        [
            str(checkov),
            "-d",
            str(root),
            "--framework",
            "cloudformation",
            "-o",
            "json",
            "--quiet",
            "--skip-download",
        ],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    # Exit code 1 means "some checks failed"; anything else is checkov itself failing.
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    (report,) = [r for r in reports if r.get("check_type") == "cloudformation"]
    assert report["summary"]["parsing_errors"] == 0
    assert report["summary"]["resource_count"] > 300, report["summary"]
    failures = report["results"]["failed_checks"]
    for failure in failures:
        failure["environment"] = Path(failure["file_path"]).parent.name
    return failures


def test_no_high_or_critical_failures(checkov_failures: list[dict[str, Any]]) -> None:
    blocking = [
        f for f in checkov_failures if (f.get("severity") or "").upper() in BLOCKING_SEVERITIES
    ]
    assert not blocking, [(f["check_id"], f["resource"], f["severity"]) for f in blocking]


def test_every_failure_is_reviewed_and_accepted(checkov_failures: list[dict[str, Any]]) -> None:
    unreviewed = [
        f"{f['environment']}: {f['check_id']} {f['resource']} ({f['check_name']})"
        for f in checkov_failures
        if accepted(f["check_id"], f["resource"], f["environment"]) is None
    ]
    assert not unreviewed, "\n".join(unreviewed)


def test_the_allow_list_has_no_stale_entries(checkov_failures: list[dict[str, Any]]) -> None:
    for entry in ACCEPTED:
        for environment in entry.environments:
            assert any(
                entry.matches(f["check_id"], f["resource"], f["environment"])
                for f in checkov_failures
                if f["environment"] == environment
            ), f"{entry.check_id} in {environment} no longer fails: drop it from the allow-list"


def test_the_readme_lists_every_accepted_check() -> None:
    readme = README.read_text()
    for entry in ACCEPTED:
        assert entry.check_id in readme, f"{entry.check_id} missing from infra/README.md"
