"""The "teach the model" page in real headless Chromium: a steward opens it, sees the pairs
active learning picks, and labels one through the decision store; then the labels train a
new model version (`e360 train --from-decisions`'s path).

Its own decision store (a copy of the project's configuration pointing elsewhere), so the
labels here never reach the other browser tests' pipeline runs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from steward_helpers import PASSWORD, add_users, free_port

from e360.config import E360Config
from e360.lake import Lake
from matching.resolution.training import train_entity
from stewardship.app.server import BackgroundServer
from stewardship.store import DecisionStore

pytestmark = pytest.mark.e2e
ENTITY = "product"


@pytest.fixture(scope="module")
def teach_config(
    steward_project: E360Config, tmp_path_factory: pytest.TempPathFactory
) -> E360Config:
    folder = tmp_path_factory.mktemp("teach")
    stewardship = steward_project.stewardship.model_copy(
        update={"url": f"sqlite:///{folder / 'steward.db'}"}
    )
    config = steward_project.model_copy(update={"stewardship": stewardship})
    store = DecisionStore.from_config(config)
    add_users(store)
    store.close()
    return config


@pytest.fixture(scope="module")
def server(teach_config: E360Config) -> Iterator[BackgroundServer]:
    # A store named by URL signs sessions with a secret from the environment.
    with pytest.MonkeyPatch.context() as env:
        env.setenv(teach_config.stewardship.session_secret_env, "teach-test-" + "s" * 32)
        with BackgroundServer(teach_config, port=free_port()) as running:
            yield running


def test_a_steward_labels_a_pair_the_model_asks_about(
    server: BackgroundServer,
    teach_config: E360Config,
    browser_page: Callable[[], object],
    tmp_path: Path,
) -> None:
    page = browser_page()
    page.goto(server.url + f"/teach/{ENTITY}")
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(f"**/teach/{ENTITY}")
    assert page.locator("h1").inner_text() == f"Teach the {ENTITY} model"
    assert page.locator("nav a", has_text=f"Teach the {ENTITY} model").count() == 1
    assert page.locator("#labelled-count").inner_text() == "0"
    rows = page.locator("#teach-table tbody tr")
    assert rows.count() >= 3
    # Some pairs are asked for their uncertainty, others to cover scores with few labels.
    covering = page.locator("#teach-table td.why .covers").count()
    assert 0 < covering < rows.count()
    first = rows.first.get_attribute("data-pair")
    assert first is not None
    record_l, record_r = first.split("|")

    rows.first.locator("button[value=no_match]").click()
    page.wait_for_selector(".flash-success")
    assert "Not a match" in page.locator(".flash-success").inner_text()
    assert page.locator("#labelled-count").inner_text() == "1"
    assert page.locator(f"#teach-table tr[data-pair='{first}']").count() == 0
    store = server.app.state.context.store
    decision = store.pair_decision(ENTITY, record_l, record_r)
    assert decision is not None and decision.verdict == "no_match"
    assert decision.decided_by == "sam"

    # A viewer sees the pairs but cannot answer.
    viewer = browser_page()
    viewer.goto(server.url + f"/teach/{ENTITY}")
    viewer.fill("input[name=username]", "vic")
    viewer.fill("input[name=password]", PASSWORD)
    viewer.click("form[action='/login'] button[type=submit]")
    viewer.wait_for_url(f"**/teach/{ENTITY}")
    assert viewer.locator("#teach-table tbody tr").count() >= 1
    assert viewer.locator("#teach-table button[value=match]").count() == 0

    # The labels train a new version: m, u and λ fitted on the candidate pairs.
    for row in range(1, 4):
        pair = rows.nth(0).get_attribute("data-pair")
        assert pair is not None
        rows.nth(0).locator("button[value=match]").click()
        page.wait_for_selector(".flash-success")
        assert page.locator("#labelled-count").inner_text() == str(1 + row)
    models = tmp_path / "models"
    config = teach_config.model_copy(
        update={"paths": teach_config.paths.model_copy(update={"models": models})}
    )
    trained = train_entity(config, Lake.from_config(config), ENTITY, decisions=store)
    assert trained.labels == 4
    assert trained.fit is not None
    assert trained.fit["matches"] + trained.fit["non_matches"] == 4
    assert 0 < trained.fit["prior"] < 1
