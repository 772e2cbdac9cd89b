"""Shared fixtures. Test tiers live in folders: unit (no services), integration (real embedded
parts: Iceberg SQL catalog, DuckDB, Splink), e2e (the whole pipeline on generated data).

`make test` runs the tests in parallel processes (pytest-xdist, `--dist loadgroup`): each
module is one group, so its module fixtures (a published scenario, a demo run) are built once;
the infra and steward tiers are one group each, so their session fixtures (the synthesized CDK
app, the browser and app server) are built once, not once per process.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pyiceberg.catalog import load_catalog

from e360.lake import Lake

# Session-scoped real services (Kafka-protocol broker, moto for S3 and Glue).
pytest_plugins = ["services.kafka", "services.aws"]
pytest_plugins += ["services.postgres"]  # a real PostgreSQL server (publish)

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "examples" / "demo" / "e360.yaml"


# Tiers whose session fixtures are expensive: all their tests run in one worker process.
_ONE_WORKER_TIERS = ("infra", "steward")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the test ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        tier = Path(item.path).relative_to(REPO / "tests").parts[0]
        group = tier if tier in _ONE_WORKER_TIERS else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))


@pytest.fixture(scope="session")
def demo_config_path() -> Path:
    return DEMO_CONFIG


@pytest.fixture
def lake(tmp_path: Path) -> Lake:
    """An embedded lake of the test's own: Iceberg SQL catalog on SQLite, local warehouse."""
    (tmp_path / "wh").mkdir()
    catalog = load_catalog(
        "test",
        type="sql",
        uri=f"sqlite:///{tmp_path / 'cat.db'}",
        warehouse=(tmp_path / "wh").as_uri(),
    )
    return Lake(catalog)
