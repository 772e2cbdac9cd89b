"""`infra/app.py`, the entry `cdk synth` / `cdk deploy` runs: it synthesizes offline with
cdk-nag as a validation plugin (any finding fails it), and a configuration mistake stops it with
one line and exit code 1."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

INFRA = Path(__file__).resolve().parents[2] / "infra"


def _run_app(tmp_path: Path, context: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # What the CDK CLI does: context and output folder through the environment.
    environment = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(context),
        "CDK_OUTDIR": str(tmp_path / "cdk.out"),
    }
    return subprocess.run(
        [sys.executable, "app.py"],
        cwd=INFRA,
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_cdk_json_runs_app_py() -> None:
    cdk_json = json.loads((INFRA / "cdk.json").read_text())
    assert cdk_json["app"].endswith("python app.py")


def test_app_synthesizes_prod_with_cdk_nag_enforced(tmp_path: Path) -> None:
    result = _run_app(tmp_path, {"env": "prod"})
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "cdk.out" / "manifest.json").read_text())
    stacks = {
        artifact["displayName"]: artifact["environment"]
        for artifact in manifest["artifacts"].values()
        if artifact["type"] == "aws:cloudformation:stack"
    }
    assert sorted(stacks) == ["Compute", "Data", "Images", "Network", "Streaming", "Warehouse"]
    assert set(stacks.values()) == {"aws://222222222222/eu-west-1"}
    # Offline: synthesis asked the CLI to look nothing up.
    assert not manifest.get("missing")


def test_app_reports_a_configuration_mistake_in_one_line(tmp_path: Path) -> None:
    result = _run_app(tmp_path, {"env": "stage"})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: environments/stage.yaml: no such environment file (known: dev, prod)"
    )
