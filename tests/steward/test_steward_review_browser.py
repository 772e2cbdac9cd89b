"""Reviewing a pair and merging masters in headless Chromium at 1440x900: records and
waterfall above the fold, the waterfall in plain words, a merge found by searching.

The app here has a decision store of its own (a copy of the test users), so the merge it
records never reaches the pipeline runs of test_steward_browser.py.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from steward_helpers import PASSWORD, free_port, project_config

from e360.config import E360Config
from matching.resolution.level_names import plain_comparisons
from stewardship.app.server import BackgroundServer
from stewardship.store import ordered

pytestmark = pytest.mark.e2e

VIEWPORT = {"width": 1440, "height": 900}
# Splink's own labels and column identifiers, which a steward should never have to read.
SPLINK_WORDS = re.compile(
    r"\btf_|[<>]=|\bis NULL\b|All other comparisons|Exact match on|distance of|"
    r"Abs date difference|Term freq|transformed|[a-z]+_[a-z_]+"
)


@pytest.fixture(scope="module")
def server(
    steward_project: E360Config,
    users_template: Path,
    demo_config_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[BackgroundServer]:
    folder = tmp_path_factory.mktemp("review-store")
    shutil.copyfile(users_template, folder / "steward.db")
    config = project_config(
        steward_project.root,
        demo_config_path,
        **{"stewardship.url": f"sqlite:///{folder}/steward.db"},
    )
    with pytest.MonkeyPatch.context() as patch:
        # a store of its own is a configured `url`: sessions then need a secret of their own
        patch.setenv(config.stewardship.session_secret_env, "review-browser-test-" + "s" * 24)
        with BackgroundServer(config, port=free_port()) as running:
            yield running


def _sign_in(page, server: BackgroundServer, username: str = "sam") -> None:  # type: ignore[no-untyped-def]
    page.set_viewport_size(VIEWPORT)
    page.goto(server.url + "/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue/.*"))


def _fullest_pair(server: BackgroundServer, entity: str) -> tuple[str, str]:
    """The queued pair with the most attributes filled: the tallest records table."""
    view = server.app.state.context.lake.entity(entity)

    def filled(pair: tuple[str, str]) -> int:
        rows = [view.records[r] for r in pair]
        return sum(any(row.get(a) not in (None, "") for row in rows) for a in view.attributes)

    pairs = [ordered(r["record_id_l"], r["record_id_r"]) for r in view.queue]
    return max(pairs, key=filled)


def _review(page, server: BackgroundServer, entity: str, pair: tuple[str, str]) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/review/{entity}?{urlencode({'l': pair[0], 'r': pair[1]})}")
    page.locator("#waterfall").wait_for()


@pytest.mark.parametrize("entity", ["customer", "product"])
def test_records_and_waterfall_side_by_side_above_the_fold(
    server: BackgroundServer, browser_page: Callable[[], object], entity: str
) -> None:
    page = browser_page()
    _sign_in(page, server)
    _review(page, server, entity, _fullest_pair(server, entity))
    assert page.evaluate("window.scrollY") == 0
    records = page.locator("#compare").bounding_box()
    chart = page.locator("#waterfall").bounding_box()
    for box in (records, chart):
        assert box is not None
        assert box["x"] >= 0 and box["y"] >= 0
        assert box["x"] + box["width"] <= VIEWPORT["width"]
        assert box["y"] + box["height"] <= VIEWPORT["height"], box
    assert records["x"] + records["width"] <= chart["x"]  # side by side, records on the left
    assert page.locator("#decide-form").is_visible()
    caption = page.locator("#waterfall-caption").inner_text()
    assert "running total" in caption and "prior" in caption and "final match weight" in caption


@pytest.mark.parametrize("entity", ["customer", "product"])
def test_the_waterfall_names_each_level_in_plain_words(
    server: BackgroundServer, browser_page: Callable[[], object], entity: str
) -> None:
    config = server.app.state.context.config
    plain = plain_comparisons(config.entities[entity].matching.comparisons)
    view = server.app.state.context.lake.entity(entity)
    page = browser_page()
    _sign_in(page, server)
    tf_seen = False
    for row in view.queue[:4]:
        _review(page, server, entity, ordered(row["record_id_l"], row["record_id_r"]))
        chart = page.locator("#waterfall").text_content() or ""
        steps = page.locator("#steps tbody tr")
        words = page.locator("#steps td:nth-child(-n+2)").all_inner_texts()
        labels = page.locator("#waterfall text.label, #waterfall text.level").all_text_contents()
        for text in [*words, *labels]:
            assert not SPLINK_WORDS.search(text), text
        assert "Prior" in chart and "Final match weight" in chart
        names = {c.name for c in plain.values()}
        assert names <= set(page.locator("#steps td:first-child").all_inner_texts())
        for i in range(steps.count()):
            name, level = steps.nth(i).locator("td").all_inner_texts()[:2]
            if level.endswith(("is rare", "is common")):
                tf_seen = True
                assert level.startswith(name)
            else:
                comparison = next(c for c in plain.values() if c.name == name)
                assert level in comparison.levels.values()
    if entity == "customer":  # names are compared with term-frequency adjustments
        assert tf_seen


def _accented(text: str) -> str:
    """The same words as a steward might type them: capitalised, with an accent."""
    vowel = next((i for i, c in enumerate(text) if c in "eaou"), None)
    if vowel is not None:
        text = (
            text[:vowel] + unicodedata.normalize("NFC", text[vowel] + "\u0301") + text[vowel + 1 :]
        )
    return text.title()


def test_search_a_master_by_name_email_or_key_and_merge_it(
    server: BackgroundServer, browser_page: Callable[[], object]
) -> None:
    context = server.app.state.context
    view = context.lake.entity("customer")
    singles = [
        m
        for m, rs in view.members.items()
        if len(rs) == 1
        and (view.golden.get(m) or {}).get("full_name")
        and view.golden[m].get("email")
    ]
    here, there = singles[0], singles[1]
    name, email = view.golden[there]["full_name"], view.golden[there]["email"]
    key = view.members[there][0]
    page = browser_page()
    _sign_in(page, server)

    # The masters page finds it by e-mail (any case) and by the bare source key.
    page.goto(f"{server.url}/masters/customer?{urlencode({'q': email.upper()})}")
    assert there in page.locator("#master-hits").inner_text()
    page.goto(f"{server.url}/masters/customer?{urlencode({'q': key.split(':', 1)[1]})}")
    hits = page.locator("#master-hits tbody tr")
    assert hits.count() >= 1 and there in hits.first.inner_text()

    # Merging: search by name, typed with capitals and an accent; pick; give a reason.
    page.goto(f"{server.url}/masters/customer/{here}")
    page.fill("#merge-q", _accented(name))
    page.click("#merge-search-button")
    row = page.locator("#master-hits tbody tr", has_text=there)
    assert name in row.inner_text() and email in row.inner_text()
    assert "1" in row.locator("td.num").inner_text()
    assert here not in page.locator("#master-hits").inner_text()  # not itself
    row.locator("input[type=radio]").check()
    page.fill("#merge-form input[name=reason]", "same customer, confirmed by phone")
    _screenshot(page, "merge")
    page.click("#merge-button")
    page.wait_for_url(f"**/masters/customer/{here}")
    assert "recorded" in page.locator(".flash-success").inner_text()
    change = context.store.master_changes("customer")[-1]
    assert (change.kind, sorted(change.master_ids)) == ("merge", sorted([here, there]))

    # A search finding nothing says so; a viewer cannot reach the merge search at all.
    page.goto(f"{server.url}/masters/customer/{here}/merge?q=zzzz+qqqq")
    assert "No customer master matches" in page.locator("#no-hits").inner_text()
    viewer = browser_page()
    _sign_in(viewer, server, "vic")
    response = viewer.goto(f"{server.url}/masters/customer/{here}/merge?q=a")
    assert response is not None and response.status == 403
    if os.environ.get("E360_STEWARD_SCREENSHOTS"):
        _review(page, server, "customer", _fullest_pair(server, "customer"))
        _screenshot(page, "review")


def _screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Refresh the README's screenshots when asked (E360_STEWARD_SCREENSHOTS=docs): what a
    steward sees at 1440x900, without scrolling."""
    folder = os.environ.get("E360_STEWARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"steward-{name}.png"))
