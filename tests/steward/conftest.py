"""The steward app's fixtures: one small pipeline run per session, shared by every test here.

API tests give each app a fresh decision store (so they never see each other's decisions);
the browser tests and the end-to-end test use the project's own store, which the next
pipeline run reads.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from steward_helpers import (
    BROWSER_ARGS,
    CHROMIUM,
    CUSTOMERS,
    StewardApp,
    add_users,
    free_port,
    project_config,
)

from demo import generate_demo_data
from e360.config import E360Config
from orchestration.runner import run_pipeline
from stewardship.app import create_app
from stewardship.app.server import BackgroundServer
from stewardship.store import DecisionStore


@pytest.fixture(scope="session")
def steward_project(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path) -> E360Config:
    root = tmp_path_factory.mktemp("steward")
    config = project_config(root, demo_config_path)
    generate_demo_data(root, customers=CUSTOMERS, seed=7)
    report = run_pipeline(config, ("ingest", "standardize", "match"))
    assert report.status == "succeeded", report.error
    assert report.entities["customer"]["review_queue"] >= 3
    assert report.entities["product"]["review_queue"] >= 3
    return config


@pytest.fixture(scope="session")
def users_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding only the test users: hashing their passwords once (argon2 is slow on
    purpose) and copying the file is what keeps a fresh store per test cheap."""
    path = tmp_path_factory.mktemp("users") / "steward.db"
    store = DecisionStore(f"sqlite:///{path}")
    add_users(store)
    store.close()
    return path


@pytest.fixture
def steward_app(
    steward_project: E360Config, users_template: Path, tmp_path: Path
) -> Iterator[StewardApp]:
    shutil.copyfile(users_template, tmp_path / "steward.db")
    store = DecisionStore(f"sqlite:///{tmp_path / 'steward.db'}")
    app = create_app(steward_project, store=store)
    yield StewardApp(steward_project, store, app)
    app.state.context.close()


@pytest.fixture(scope="module")
def server(steward_project: E360Config) -> Iterator[BackgroundServer]:
    """The app served over HTTP for a browser, one per test module."""
    store = DecisionStore.from_config(steward_project)
    add_users(store)
    store.close()
    with BackgroundServer(steward_project, port=free_port()) as running:
        yield running


@pytest.fixture(scope="session")
def chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Chromium is missing at {CHROMIUM}: `make test` installs it (apt-get)")
    pytest.skip(f"Chromium is not installed at {CHROMIUM}")


@pytest.fixture(scope="session")
def playwright_driver(chromium: Path) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        yield driver


@pytest.fixture
def browser_page(
    playwright_driver: object, chromium: Path, tmp_path: Path
) -> Iterator[Callable[[], object]]:
    """A factory of pages, each in a fresh browser profile (its own cookies)."""
    contexts = []

    def new_page() -> object:
        profile = tmp_path / f"profile-{len(contexts)}"
        context = playwright_driver.chromium.launch_persistent_context(  # type: ignore[attr-defined]
            str(profile),
            executable_path=str(chromium),
            headless=True,
            args=BROWSER_ARGS,
            viewport={"width": 1360, "height": 900},
            accept_downloads=True,
        )
        contexts.append((context, profile))
        context.set_default_timeout(15_000)
        return context.pages[0] if context.pages else context.new_page()

    yield new_page
    for context, profile in contexts:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
