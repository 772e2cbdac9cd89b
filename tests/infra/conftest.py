"""Fixtures for the AWS deployment (`infra/`): each environment's app is synthesized once per
session, offline (explicit account and region, no lookups), and its templates, cdk-nag report
and assembly folder are shared by every test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

# jsii runs on the machine's Node 20 and warns about its age on every start.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_DEPRECATED", "quiet")

INFRA = Path(__file__).resolve().parents[2] / "infra"
if str(INFRA) not in sys.path:
    sys.path.insert(0, str(INFRA))

from infra_synth import ENVIRONMENTS, Synthesized, synthesize  # noqa: E402


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Synthesized]:
    return {name: synthesize(name, tmp_path_factory.mktemp(f"cdk-{name}")) for name in ENVIRONMENTS}


@pytest.fixture(scope="session")
def dev(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["dev"]


@pytest.fixture(scope="session")
def prod(synthesized: dict[str, Synthesized]) -> Synthesized:
    return synthesized["prod"]


@pytest.fixture(scope="session", params=ENVIRONMENTS)
def each(request: pytest.FixtureRequest, synthesized: dict[str, Synthesized]) -> Synthesized:
    """Parametrizes a test over every environment."""
    return synthesized[request.param]
