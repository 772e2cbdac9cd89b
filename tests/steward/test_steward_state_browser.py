"""Honest state in real headless Chromium (Playwright): contradicting merges and splits,
runs that apply decisions without a false conflict, partly applied changes, the queue's
states, skips, groups, pages and counts, and a readable audit with failed sign-ins.

Like test_steward_browser.py these use the project's own decision store, which the next
pipeline run reads; each test picks records no earlier test touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from steward_helpers import sign_in_page, store_of

from e360.config import E360Config
from e360.lake import Lake
from e360.zones import master_table_name
from orchestration.runner import run_pipeline
from stewardship.app.lakeview import EntityView
from stewardship.app.server import BackgroundServer
from stewardship.store import ordered

pytestmark = pytest.mark.e2e
ENTITY = "customer"


def view_of(server: BackgroundServer) -> EntityView:
    return server.app.state.context.lake.entity(ENTITY)


def review_url(server: BackgroundServer, pair: tuple[str, str], entity: str = ENTITY) -> str:
    return f"{server.url}/review/{entity}?{urlencode({'l': pair[0], 'r': pair[1]})}"


def touched(server: BackgroundServer, entity: str = ENTITY) -> set[str]:
    """Records any decision or change names."""
    store = store_of(server)
    records = {r for d in store.pair_decisions(entity) for r in (d.record_l, d.record_r)}
    for change in store.master_changes(entity):
        records.update(change.records)
        records.update(change.remaining)
    return records


def untouched_masters(server: BackgroundServer, size: int) -> list[str]:
    view, busy = view_of(server), touched(server)
    queued = {r for q in view.queue for r in (q["record_id_l"], q["record_id_r"])}
    return [
        m
        for m, rs in sorted(view.members.items())
        if len(rs) == size and not set(rs) & (busy | queued)
    ]


def decide_in_browser(
    page, server, pair, verdict: str, comment: str = "", entity: str = ENTITY
) -> None:  # type: ignore[no-untyped-def]
    page.goto(review_url(server, pair, entity))
    if comment:
        page.fill("#comment", comment)
    page.click(f"#decide-form button[value={verdict}]")
    page.wait_for_load_state()


def merge_in_browser(
    page, server, master: str, other: str, reason: str, entity: str = ENTITY
) -> None:  # type: ignore[no-untyped-def]
    # The other master is found by its id through the merge search, as a steward would.
    page.goto(f"{server.url}/masters/{entity}/{master}/merge?q={other}")
    page.locator(f"#merge-form input[type=radio][value='{other}']").check()
    page.fill("#merge-form input[name=reason]", reason)
    page.click("#merge-button")
    page.wait_for_load_state()


def test_a_merge_contradicting_a_not_a_match_is_refused_and_an_override_revokes_it(
    server: BackgroundServer, browser_page: Callable[[], object]
) -> None:
    first, second = untouched_masters(server, 1)[:2]
    members = view_of(server).members
    pair = ordered(members[first][0], members[second][0])
    sue = browser_page()
    sign_in_page(sue, server, "sue")
    decide_in_browser(sue, server, pair, "no_match", "twins: same address, different people")
    kept_apart = store_of(server).pair_decision(ENTITY, *pair)

    sam = browser_page()
    sign_in_page(sam, server, "sam")
    merge_in_browser(sam, server, first, second, "same customer, confirmed by phone")
    # Refused up front, naming the decision: who, when, the comment and a link to the pair.
    assert "not recorded" in sam.locator("h1").inner_text()
    standing = sam.locator("#standing").inner_text()
    assert "sue" in standing and "twins: same address, different people" in standing
    assert "pair decided not a match" in standing
    assert kept_apart.decided_at.isoformat(sep=" ", timespec="seconds") in standing
    link = sam.locator("#standing a", has_text=f"{pair[0]} / {pair[1]}")
    assert (
        link.get_attribute("href") == f"/review/{ENTITY}?{urlencode({'l': pair[0], 'r': pair[1]})}"
    )
    assert store_of(server).master_changes(ENTITY) == [] or all(
        set(c.records) != set(pair) for c in store_of(server).master_changes(ENTITY)
    )
    assert store_of(server).pair_decision(ENTITY, *pair) is not None

    # The override merges and revokes the "not a match" in one audited step.
    sam.click("#override-button")
    sam.wait_for_load_state()
    assert "recorded" in sam.locator(".flash-success").inner_text()
    assert store_of(server).pair_decision(ENTITY, *pair) is None
    revoke = [e for e in store_of(server).audit(ENTITY) if e.action == "revoke_pair"][-1]
    assert revoke.actor == "sam" and revoke.subject == f"{pair[0]} | {pair[1]}"
    assert "overridden by merge" in revoke.comment
    # The pair's review page shows the decision gone and why in its history.
    sam.goto(review_url(server, pair))
    assert "Not decided yet" in sam.locator("#current-verdict").inner_text()


def test_a_split_contradicting_a_match_is_refused_with_the_match_shown(
    server: BackgroundServer, browser_page: Callable[[], object]
) -> None:
    master = untouched_masters(server, 2)[0]
    stays, leaves = view_of(server).members[master]
    page = browser_page()
    sign_in_page(page, server, "sue")
    decide_in_browser(page, server, (stays, leaves), "match", "same person, new e-mail")
    changes = len(store_of(server).master_changes(ENTITY))
    page.goto(f"{server.url}/masters/{ENTITY}/{master}")
    page.check(f"#members input[value='{leaves}']")
    page.fill("#split-form input[name=reason]", "two people")
    page.click("#split-button")
    page.wait_for_load_state()
    assert "Split not recorded" in page.locator("h1").inner_text()
    assert "would part records a steward joined" in page.locator("#contradiction").inner_text()
    assert "same person, new e-mail" in page.locator("#standing").inner_text()
    assert len(store_of(server).master_changes(ENTITY)) == changes
    assert store_of(server).pair_decision(ENTITY, stays, leaves).verdict == "match"


def test_the_queue_counts_pages_and_filters_unsure_apart_from_decided(
    server: BackgroundServer, browser_page: Callable[[], object]
) -> None:
    entity = _entity_with_free_pairs(server)
    page = browser_page()
    sign_in_page(page, server, "sam")
    total = len(_view(server, entity).queue)
    page.goto(f"{server.url}/queue/{entity}?status=all&size=25")
    pages = -(-total // 25)
    assert (
        page.locator("#queue-count")
        .inner_text()
        .startswith(f"{total} pairs, 1\N{EN DASH}{min(25, total)} shown · page 1 of {pages}")
    )
    assert page.locator("#queue-table tbody tr[data-href]").count() == min(25, total)

    # An unsure pair is neither open nor decided, and has a filter of its own.
    busy = touched(server, entity)
    pair = next(
        ordered(q["record_id_l"], q["record_id_r"])
        for q in _view(server, entity).queue
        if not {q["record_id_l"], q["record_id_r"]} & busy
    )
    page.goto(f"{server.url}/queue/{entity}")
    left, unsure = (int(page.locator(s).inner_text()) for s in ("#left-count", "#unsure-count"))
    decided = int(page.locator("#decided-count").inner_text())
    decide_in_browser(page, server, pair, "unsure", "cannot tell from these", entity)
    page.goto(f"{server.url}/queue/{entity}")
    assert int(page.locator("#left-count").inner_text()) == left - 1
    assert int(page.locator("#unsure-count").inner_text()) == unsure + 1
    assert int(page.locator("#decided-count").inner_text()) == decided
    page.select_option("#queue-filter select[name=status]", "unsure")
    page.click("#queue-filter button[type=submit]")
    page.wait_for_load_state()
    rows = page.locator("#queue-table tbody tr[data-href]")
    assert rows.count() == unsure + 1
    assert pair[0] in page.locator("#queue-table").inner_text()
    page.goto(f"{server.url}/queue/{entity}?status=decided&size=200")
    assert urlencode({"l": pair[0], "r": pair[1]}) not in _pairs_listed(page)


def _view(server: BackgroundServer, entity: str) -> EntityView:
    return server.app.state.context.lake.entity(entity)


def _entity_with_free_pairs(server: BackgroundServer, need: int = 3) -> str:
    """The entity whose queue still holds `need` open pairs no decision or change touched,
    between masters nobody changed (the queues are small, and earlier tests use them)."""
    for entity in (ENTITY, "product"):
        view, busy = _view(server, entity), touched(server, entity)
        free = [
            q
            for q in view.queue
            if q["master_id_l"] != q["master_id_r"]
            and not set(view.members[q["master_id_l"]]) & busy
            and not set(view.members[q["master_id_r"]]) & busy
        ]
        if len(free) >= need:
            return entity
    raise AssertionError(f"no entity has {need} untouched open pairs left in its queue")


def _pairs_listed(page) -> str:  # type: ignore[no-untyped-def]
    return (
        " ".join(
            page.locator("#queue-table tbody tr[data-href]").evaluate_all(
                "rows => rows.map(r => r.dataset.href)"
            )
        )
        if page.locator("#queue-table").count()
        else ""
    )


def test_a_skipped_pair_is_not_served_again_and_a_merge_settles_its_pairs(
    server: BackgroundServer, browser_page: Callable[[], object]
) -> None:
    entity = _entity_with_free_pairs(server)
    page = browser_page()
    sign_in_page(page, server, "sue")
    page.goto(f"{server.url}/queue/{entity}")
    page.click("#start-review")
    page.wait_for_load_state()
    skipped = page.url
    page.click("#skip-button")
    page.wait_for_load_state()
    assert page.url != skipped and "Skipped" in page.locator(".flash-info").first.inner_text()
    page.goto(f"{server.url}/queue/{entity}")
    page.click("#start-review")
    page.wait_for_load_state()
    assert page.url != skipped  # the skip sticks
    page.goto(skipped)
    assert page.locator("#skipped-note").is_visible()
    # Another steward is still served it.
    other = browser_page()
    sign_in_page(other, server, "sam", f"/queue/{entity}")
    assert (
        other.locator("#start-review")
        .get_attribute("href")
        .endswith(skipped.split(f"/review/{entity}", 1)[1])
    )

    # A manual merge of both records' masters settles an open pair, with a note.
    view, busy = _view(server, entity), touched(server, entity)
    row = next(
        q
        for q in view.queue
        if q["master_id_l"] != q["master_id_r"]
        and not set(view.members[view.masters[q["record_id_l"]]]) & busy
        and not set(view.members[view.masters[q["record_id_r"]]]) & busy
    )
    pair = ordered(row["record_id_l"], row["record_id_r"])
    merge_in_browser(
        page, server, view.masters[pair[0]], view.masters[pair[1]], "one of a kind", entity
    )
    assert "recorded" in page.locator(".flash-success").inner_text()
    page.goto(f"{server.url}/queue/{entity}?status=settled&size=200")
    settled = page.locator("#queue-table tbody tr", has_text=pair[0]).filter(has_text=pair[1])
    assert "settled" in settled.inner_text() and "one of a kind" in settled.inner_text()
    page.goto(f"{server.url}/queue/{entity}?size=200")
    assert urlencode({"l": pair[0], "r": pair[1]}) not in _pairs_listed(page)


def test_pairs_sharing_a_record_are_grouped_and_decided_together(
    server: BackgroundServer, browser_page: Callable[[], object]
) -> None:
    from stewardship.app.queue import groups_of

    # Product variants in a family, or a household: the largest group (earlier tests may
    # have decided some of its pairs; a bulk decision changes those too when checked).
    candidates = []
    for entity in ("product", "customer"):
        view = server.app.state.context.lake.entity(entity)
        keys = [ordered(q["record_id_l"], q["record_id_r"]) for q in view.queue]
        groups = groups_of(keys)
        families: dict[str, list[tuple[str, str]]] = {}
        for key in keys:
            families.setdefault(groups[key[0]], []).append(key)
        candidates += [(entity, root, ps) for root, ps in families.items() if len(ps) > 1]
    entity, root, pairs = max(candidates, key=lambda c: (len(c[2]), c[0] == "product", c[1]))
    page = browser_page()
    sign_in_page(page, server, "sam")
    page.goto(f"{server.url}/queue/{entity}?status=all&grouped=1&size=200")
    head = page.locator("tr.group-head", has_text=f"Group of {len(pairs)} pairs").first
    assert head.is_visible()
    head.locator("a").click()
    page.wait_for_load_state()
    assert f"{len(pairs)} queued pairs sharing records" in page.locator("h1").inner_text()
    page.goto(f"{server.url}/queue/{entity}/group?{urlencode({'record': root})}")
    boxes = page.locator("#group-pairs input[name=pairs]")
    assert boxes.count() == len(pairs)
    # Checked to start with: the pairs nobody decided (open or unsure), not the decided or
    # settled ones.
    assert page.locator("#group-pairs tr.open input:not(:checked)").count() == 0
    assert page.locator("#group-pairs tr.unsure input:not(:checked)").count() == 0
    assert page.locator("#group-pairs tr.decided input:checked").count() == 0
    assert page.locator("#group-pairs tr.settled input:checked").count() == 0
    for index in range(boxes.count()):
        boxes.nth(index).check()
    page.fill("#group-form input[name=comment]", "one family, different variants")
    page.click("#group-no_match")
    page.wait_for_load_state()
    assert f"Not a match for {len(pairs)} pair(s)" in page.locator(".flash-success").inner_text()
    store = store_of(server)
    for pair in pairs:
        decision = store.pair_decision(entity, *pair)
        assert (decision.verdict, decision.decided_by) == ("no_match", "sam")
        assert decision.comment == "one family, different variants"


def test_a_run_applying_a_decision_gives_no_false_conflict_and_partly_applied_says_why(
    server: BackgroundServer,
    browser_page: Callable[[], object],
    steward_project: E360Config,
) -> None:
    config, store = steward_project, store_of(server)
    singles, doubles = untouched_masters(server, 1), untouched_masters(server, 2)
    members = view_of(server).members
    # Any two records can be reviewed, queued or not (earlier tests may have used the queue).
    pair = ordered(members[singles[0]][0], members[singles[1]][0])
    sam, sue = browser_page(), browser_page()
    sign_in_page(sam, server, "sam")
    sign_in_page(sue, server, "sue")
    decide_in_browser(sam, server, pair, "match", "same person")
    assert store.pair_decision(ENTITY, *pair).version == 1
    sue.goto(review_url(server, pair))  # sue reviews version 1 while a run applies it
    sam.goto(review_url(server, pair))  # ...and so does sam

    # A merge a later "not a match" cuts in two: a single with a pair of members.
    single, double = next(
        (s, d) for s in singles[2:] for d in doubles if members[s][0] < min(members[d])
    )
    merger = browser_page()
    sign_in_page(merger, server, "sam")
    merge_in_browser(merger, server, single, double, "one family account")
    merge = store.master_changes(ENTITY)[-1]
    other = browser_page()
    sign_in_page(other, server, "alice")
    decide_in_browser(other, server, tuple(members[double]), "no_match", "siblings")
    queued_before = _queued_at(config)

    report = run_pipeline(config, ("standardize", "match"))
    assert report.status == "succeeded", report.error
    applied = store.pair_decision(ENTITY, *pair)
    assert (applied.applied_run_id, applied.version) == (report.run_id, 1)

    # sue's edit on the page she opened before the run is not a conflict...
    sue.fill("#comment", "different dates of birth")
    sue.click("#decide-form button[value=no_match]")
    sue.wait_for_load_state()
    assert sue.locator("#conflict").count() == 0
    assert "Saved: Not a match" in sue.locator(".flash-success").inner_text()
    changed = store.pair_decision(ENTITY, *pair)
    assert (changed.verdict, changed.decided_by, changed.version) == ("no_match", "sue", 2)
    # ...but sam's, on the page showing version 1, is: sue changed it meanwhile.
    sam.fill("#comment", "I still think so")
    sam.click("#decide-form button[value=match]")
    sam.wait_for_load_state()
    assert "Someone decided this pair" in sam.locator("#conflict").inner_text()
    assert sam.locator("#comment").input_value() == "I still think so"
    assert store.pair_decision(ENTITY, *pair).verdict == "no_match"

    # The merge is shown partly applied, naming the decision that refused the rest.
    xref = _xref(config)
    a, (b, c) = members[single][0], members[double]
    assert xref[b] != xref[c]  # the cannot-link holds in the masters
    assert xref[a] in (xref[b], xref[c])
    merger.goto(f"{server.url}/masters/{ENTITY}/{xref[a]}")
    row = merger.locator("#changes tr", has_text="one family account")
    state = row.locator(".partly")
    assert state.inner_text() == f"partly applied · {report.run_id}"
    assert "siblings" in row.inner_text() and "alice" in row.inner_text()
    assert store.applications(ENTITY)[("change", merge.id)].status == "partly"

    # Pairs still queued kept the time they were first queued.
    queued_after = _queued_at(config)
    kept = set(queued_before) & set(queued_after)
    assert kept and all(queued_after[k] == queued_before[k] for k in kept)


def test_the_audit_shows_readable_diffs_links_and_failed_sign_ins(
    server: BackgroundServer, browser_page: Callable[[], object]
) -> None:
    intruder = browser_page()
    intruder.goto(server.url + "/login")
    for _ in range(5):
        intruder.fill("input[name=username]", "mallory")
        intruder.fill("input[name=password]", "guess-guess-guess")
        intruder.click("form[action='/login'] button[type=submit]")
        intruder.wait_for_load_state()
    intruder.fill("input[name=username]", "mallory")
    intruder.fill("input[name=password]", "guess-guess-guess")
    intruder.click("form[action='/login'] button[type=submit]")
    intruder.wait_for_load_state()
    assert "Too many failed sign-ins" in intruder.locator(".flash-error").inner_text()

    page = browser_page()
    sign_in_page(page, server, "alice", "/audit?action=sign_in_failed")
    failed = page.locator("#audit > tbody > tr", has_text="mallory")
    assert failed.count() >= 5
    page.goto(server.url + "/audit?action=lockout")
    assert "mallory" in page.locator("#audit").inner_text()
    page.goto(server.url + "/audit?action=sign_in_refused")
    assert "locked out" in page.locator("#audit").inner_text()

    # Decisions read as before → after per field, and their subject opens the pair.
    page.goto(server.url + f"/audit?entity={ENTITY}&action=decide_pair")
    changed = page.locator("#audit > tbody > tr", has_text="different dates of birth").first
    diff = changed.locator(".diff-table").inner_text()
    assert re.search(r"verdict\s+match\s+→\s+not a match", diff)
    assert re.search(r"decided by\s+sam\s+→\s+sue", diff)
    assert "{" not in diff
    changed.locator("td.subject a").click()
    page.wait_for_load_state()
    assert f"/review/{ENTITY}?" in page.url
    assert "Not a match" in page.locator("#current-verdict").inner_text()
    # A merge's subject links to its masters.
    page.goto(server.url + f"/audit?entity={ENTITY}&action=merge_masters")
    link = page.locator("#audit > tbody > tr > td.subject a").first
    assert link.get_attribute("href").startswith(f"/masters/{ENTITY}/")


def _queued_at(config: E360Config) -> dict[tuple[str, str], object]:
    table = Lake.from_config(config).read("master", master_table_name(ENTITY, "review_queue"))
    return {ordered(r["record_id_l"], r["record_id_r"]): r["queued_at"] for r in table.to_pylist()}


def _xref(config: E360Config) -> dict[str, str]:
    rows = Lake.from_config(config).read("master", master_table_name(ENTITY, "xref")).to_pylist()
    return {r["record_id"]: r["master_id"] for r in rows}
