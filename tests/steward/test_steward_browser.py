"""The steward app in real headless Chromium (Playwright), served by uvicorn on 127.0.0.1.

These tests use the project's own decision store, the one the pipeline reads: the last one
decides in the browser (with the keyboard), merges and splits, runs the pipeline again and
checks that the next run's masters changed accordingly.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

import pytest
from steward_helpers import PASSWORD, sign_in_page, store_of

from e360.config import E360Config
from e360.lake import Lake
from e360.zones import master_table_name
from orchestration.runner import run_pipeline
from stewardship.app.server import BackgroundServer
from stewardship.store import ordered

pytestmark = pytest.mark.e2e


def xref(config: E360Config, entity: str) -> dict[str, str]:
    rows = Lake.from_config(config).read("master", master_table_name(entity, "xref")).to_pylist()
    return {r["record_id"]: r["master_id"] for r in rows}


def open_pairs(server: BackgroundServer, entity: str) -> list[tuple[str, str]]:
    view = server.app.state.context.lake.entity(entity)
    store = store_of(server)
    pairs = [ordered(r["record_id_l"], r["record_id_r"]) for r in view.queue]
    return [p for p in pairs if store.pair_decision(entity, *p) is None]


def review_url(server: BackgroundServer, entity: str, pair: tuple[str, str]) -> str:
    return f"{server.url}/review/{entity}?{urlencode({'l': pair[0], 'r': pair[1]})}"


def test_sign_in(server: BackgroundServer, browser_page: Callable[[], object]) -> None:
    page = browser_page()
    page.goto(server.url + "/queue/customer")
    assert "/login" in page.url
    page.fill("input[name=username]", "sam")
    page.fill("input[name=password]", "wrong password")
    page.click("form[action='/login'] button[type=submit]")
    assert page.locator(".flash-error").inner_text() == "Wrong user name or password."
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_url("**/queue/customer")
    assert page.locator("h1").inner_text() == "Customer review queue"
    assert page.locator(".who .user").inner_text() == "sam"
    assert int(page.locator("#left-count").inner_text()) >= 1
    page.click("text=Sign out")
    page.wait_for_url("**/login")


def test_a_viewer_is_refused_a_decision(
    server: BackgroundServer, browser_page: Callable[[], object]
) -> None:
    page = browser_page()
    sign_in_page(page, server, "vic")
    pair = open_pairs(server, "product")[0]
    page.goto(review_url(server, "product", pair))
    assert page.locator("#read-only").is_visible()
    assert page.locator("#decide-form").count() == 0
    page.keyboard.press("m")  # the shortcut finds no form to submit
    assert "Not decided yet" in page.locator("#current-verdict").inner_text()
    # A decision forged from the viewer's own session (valid CSRF token) is refused too.
    status = page.evaluate(
        """async ([l, r]) => {
            const token = document.querySelector('meta[name="csrf-token"]').content;
            const body = new URLSearchParams({record_l: l, record_r: r, verdict: 'match',
                                              expected_version: '0', csrf_token: token});
            const response = await fetch('/review/product/decide', {method: 'POST', body});
            return response.status;
        }""",
        list(pair),
    )
    assert status == 403
    assert store_of(server).pair_decision("product", *pair) is None


def test_audit_export(
    server: BackgroundServer, browser_page: Callable[[], object], tmp_path: Path
) -> None:
    page = browser_page()
    sign_in_page(page, server, "sue")
    pair = open_pairs(server, "product")[0]
    page.goto(review_url(server, "product", pair))
    page.fill("#comment", "same model, colour unclear")
    page.click("button.decide-unsure")
    page.wait_for_load_state()
    page.goto(server.url + "/audit")
    with page.expect_download() as download_info:
        page.click("#export-csv")
    path = tmp_path / "audit.csv"
    download_info.value.save_as(path)
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    mine = [r for r in rows if r["actor"] == "sue" and r["action"] == "decide_pair"]
    assert mine and mine[-1]["subject"] == f"{pair[0]} | {pair[1]}"
    assert mine[-1]["comment"] == "same model, colour unclear"
    assert '"verdict": "unsure"' in mine[-1]["after"]


def test_decisions_made_in_the_browser_change_the_next_runs_masters(
    server: BackgroundServer,
    browser_page: Callable[[], object],
    steward_project: E360Config,
) -> None:
    config = steward_project
    before = xref(config, "customer")
    members: dict[str, list[str]] = {}
    for record, master in sorted(before.items()):
        members.setdefault(master, []).append(record)
    page = browser_page()
    sign_in_page(page, server, "sam", "/queue/customer")

    # 1. Review a queued pair of two different masters with the keyboard: "m" is a match.
    pair = next(p for p in open_pairs(server, "customer") if before[p[0]] != before[p[1]])
    page.goto(review_url(server, "customer", pair))
    assert page.locator("#waterfall").is_visible()
    page.keyboard.press("c")
    page.keyboard.type("same person, moved house")
    page.keyboard.press("Escape")
    page.keyboard.press("m")
    page.wait_for_load_state()
    assert "Saved: Match" in page.locator(".flash-success").inner_text()
    decision = store_of(server).pair_decision("customer", *pair)
    assert (decision.verdict, decision.decided_by) == ("match", "sam")
    assert decision.comment == "same person, moved house"

    # 2. Merge two single-record masters that share no pair with the above.
    touched = set(pair) | {before[pair[0]], before[pair[1]]}
    singles = [m for m, rs in members.items() if len(rs) == 1 and m not in touched][:2]
    page.goto(f"{server.url}/masters/customer/{singles[0]}")
    page.fill("#merge-q", singles[1])
    page.click("#merge-search-button")
    page.check(f"#master-hits input[value='{singles[1]}']")
    page.fill("#merge-form input[name=reason]", "same customer, confirmed by phone")
    page.click("#merge-button")
    page.wait_for_load_state()
    assert "recorded" in page.locator(".flash-success").inner_text()
    assert "pending next run" in page.locator("#changes").inner_text()

    # 3. Split one record out of a master with several members.
    big = next(m for m, rs in members.items() if len(rs) >= 2 and m not in touched | set(singles))
    leaving = members[big][0]
    page.goto(f"{server.url}/masters/customer/{big}")
    page.check(f"#members input[value='{leaving}']")
    page.fill("#split-form input[name=reason]", "two people sharing an e-mail")
    page.click("#split-button")
    page.wait_for_load_state()
    assert "Split of 1 record(s)" in page.locator(".flash-success").inner_text()

    # The next run honours all three.
    report = run_pipeline(config, ("standardize", "match"))
    assert report.status == "succeeded", report.error
    after = xref(config, "customer")
    assert after[pair[0]] == after[pair[1]]
    assert after[members[singles[0]][0]] == after[members[singles[1]][0]]
    assert all(after[leaving] != after[r] for r in members[big][1:])

    # ...and the app shows them applied in that run.
    page.goto(f"{server.url}/queue/customer?status=decided")
    assert f"applied · {report.run_id}" in page.locator("#queue-table").inner_text()
    page.goto(f"{server.url}/masters/customer/{after[leaving]}")
    assert f"applied · {report.run_id}" in page.locator("#changes").inner_text()
    page.goto(f"{server.url}/queue/customer?status=all")
    _screenshot(page, "queue")


def _screenshot(page, name: str) -> None:  # type: ignore[no-untyped-def]
    """Refresh the README's screenshots when asked (E360_STEWARD_SCREENSHOTS=docs)."""
    folder = os.environ.get("E360_STEWARD_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"steward-{name}.png"), full_page=True)
