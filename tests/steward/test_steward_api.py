"""The steward app through its HTTP API (FastAPI's test client) on a real lake and store:
sign-in, roles, CSRF, decisions and their conflicts, queue, masters, audit, logs."""

from __future__ import annotations

import csv
import io
import logging
import re
import threading
from html import unescape

import pytest
from steward_helpers import PASSWORD, StewardApp, csrf_of

from matching.resolution.level_names import column_name as words
from stewardship.app.lakeview import EntityView
from stewardship.store import ordered


def view(app: StewardApp, entity: str) -> EntityView:
    return app.app.state.context.lake.entity(entity)  # type: ignore[attr-defined]


def queue_pair(app: StewardApp, entity: str, index: int = 0) -> tuple[str, str]:
    row = view(app, entity).queue[index]
    return ordered(row["record_id_l"], row["record_id_r"])


def decide(client, entity: str, pair: tuple[str, str], verdict: str, version: int = 0, **extra):  # type: ignore[no-untyped-def]
    page = client.get(f"/review/{entity}", params={"l": pair[0], "r": pair[1]})
    assert page.status_code == 200
    data = {
        "record_l": pair[0],
        "record_r": pair[1],
        "verdict": verdict,
        "expected_version": str(version),
        "csrf_token": csrf_of(page.text),
        **extra,
    }
    return client.post(f"/review/{entity}/decide", data=data, follow_redirects=False)


# sign-in ----------------------------------------------------------------------------------


def test_every_page_needs_sign_in(steward_app: StewardApp) -> None:
    client = steward_app.client()
    for path in (
        "/",
        "/queue/customer",
        "/audit",
        "/audit.csv",
        "/masters/product",
        "/admin/users",
    ):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
    assert client.get("/healthz").json() == {"status": "ok"}


def test_sign_in_checks_the_password_and_returns_to_the_page_asked_for(
    steward_app: StewardApp,
) -> None:
    client = steward_app.client()
    token = csrf_of(client.get("/login").text)
    wrong = client.post(
        "/login", data={"username": "sam", "password": "not-the-password", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "Wrong user name or password" in wrong.text
    assert client.get("/queue/customer", follow_redirects=False).status_code == 303
    token = csrf_of(client.get("/login").text)
    right = client.post(
        "/login",
        data={
            "username": "sam",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/queue/product",
        },
        follow_redirects=False,
    )
    assert right.status_code == 303 and right.headers["location"] == "/queue/product"
    page = client.get("/queue/product")
    assert page.status_code == 200 and "Product review queue" in page.text
    # The session cookie is signed: tampering with it signs the user out.
    (signed,) = [c for c in client.cookies.jar if c.name == "e360_steward"]
    cookie = signed.value or ""
    # Replace the cookie where it lives: a second one of the name would be sent beside it.
    client.cookies.set(
        "e360_steward",
        cookie[:-4] + ("AAAA" if not cookie.endswith("AAAA") else "BBBB"),
        domain=signed.domain,
        path=signed.path,
    )
    assert client.get("/queue/product", follow_redirects=False).status_code == 303


def test_sign_in_never_redirects_off_site(steward_app: StewardApp) -> None:
    client = steward_app.client()
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={
            "username": "sam",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "https://evil.example/",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_repeated_failures_lock_the_name_for_a_while(steward_app: StewardApp) -> None:
    client = steward_app.client()
    for _ in range(5):
        token = csrf_of(client.get("/login").text)
        client.post(
            "/login", data={"username": "sue", "password": "guess-guess", "csrf_token": token}
        )
    token = csrf_of(client.get("/login").text)
    locked = client.post(
        "/login", data={"username": "sue", "password": PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429


# CSRF --------------------------------------------------------------------------------------


def test_a_request_without_a_csrf_token_is_refused(steward_app: StewardApp) -> None:
    client = steward_app.client("sam")
    pair = queue_pair(steward_app, "customer")
    data = {"record_l": pair[0], "record_r": pair[1], "verdict": "match", "expected_version": "0"}
    missing = client.post("/review/customer/decide", data=data, follow_redirects=False)
    assert missing.status_code == 403
    assert "CSRF" in missing.text
    forged = client.post(
        "/review/customer/decide", data={**data, "csrf_token": "forged"}, follow_redirects=False
    )
    assert forged.status_code == 403
    assert steward_app.store.pair_decision("customer", *pair) is None
    # The sign-in form and sign-out are protected too.
    anonymous = steward_app.client()
    assert (
        anonymous.post("/login", data={"username": "sam", "password": PASSWORD}).status_code == 403
    )
    assert client.post("/logout", follow_redirects=False).status_code == 403
    # With the token (form field or header) the same request goes through.
    assert decide(client, "customer", pair, "match").status_code == 303
    assert steward_app.store.pair_decision("customer", *pair).verdict == "match"


# roles ---------------------------------------------------------------------------------------


def test_a_viewer_reads_but_cannot_decide_merge_or_split(steward_app: StewardApp) -> None:
    client = steward_app.client("vic")
    pair = queue_pair(steward_app, "customer")
    page = client.get("/review/customer", params={"l": pair[0], "r": pair[1]})
    assert page.status_code == 200
    assert 'id="decide-form"' not in page.text and "cannot decide" in page.text
    refused = decide(client, "customer", pair, "match")
    assert refused.status_code == 403
    assert "viewer" in refused.text
    assert steward_app.store.pair_decision("customer", *pair) is None
    master_id = view(steward_app, "customer").masters[pair[0]]
    token = csrf_of(page.text)
    for action, data in (
        ("merge", {"other_master_id": "CUS-X", "reason": "r"}),
        ("split", {"records": pair[0], "reason": "r"}),
    ):
        response = client.post(
            f"/masters/customer/{master_id}/{action}", data={**data, "csrf_token": token}
        )
        assert response.status_code == 403, action
    assert steward_app.store.master_changes("customer") == []
    assert client.post("/queue/customer/assign", data={"csrf_token": token}).status_code == 403


def test_only_admins_manage_users(steward_app: StewardApp) -> None:
    steward = steward_app.client("sam")
    assert steward.get("/admin/users").status_code == 403
    admin = steward_app.client("alice")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "vic" in page.text
    token = csrf_of(page.text)
    added = admin.post(
        "/admin/users",
        data={
            "username": "nina",
            "role": "steward",
            "password": "a-long-password",
            "csrf_token": token,
        },
    )
    assert added.status_code == 200 and "User nina added as steward" in added.text
    users = steward_app.app.state.context.users  # type: ignore[attr-defined]
    assert users.get("nina").role == "steward"
    # The last admin cannot demote themself; demoting a steward to viewer takes effect at once.
    admin.post("/admin/users/alice", data={"role": "viewer", "csrf_token": token})
    assert users.get("alice").role == "admin"
    admin.post("/admin/users/sam", data={"role": "viewer", "csrf_token": token})
    assert (
        decide(steward, "customer", queue_pair(steward_app, "customer"), "match").status_code == 403
    )
    admin.post("/admin/users/sam", data={"active": "no", "csrf_token": token})
    assert steward.get("/queue/customer", follow_redirects=False).status_code == 303
    actions = [e.action for e in steward_app.store.audit()]
    assert {"add_user", "set_role", "deactivate"} <= set(actions)


# decisions and concurrency -------------------------------------------------------------------


def test_the_second_steward_on_a_pair_sees_it_was_already_decided(steward_app: StewardApp) -> None:
    sam, sue = steward_app.client("sam"), steward_app.client("sue")
    pair = queue_pair(steward_app, "product")
    # Both open the pair while it is undecided (version 0)...
    first = decide(sam, "product", pair, "match")
    assert first.status_code == 303
    second = decide(sue, "product", pair, "no_match", version=0, comment="looks different")
    # ...the second is told, and nothing of theirs is written.
    assert second.status_code == 409
    text = unescape(second.text)
    assert "Someone decided this pair while you were reviewing it" in text
    assert "by sam" in text and "was not saved" in re.sub("<[^>]+>", "", text)
    decision = steward_app.store.pair_decision("product", *pair)
    assert (decision.verdict, decision.decided_by, decision.version) == ("match", "sam", 1)
    # Having seen version 1, sue may overrule it deliberately.
    assert decide(sue, "product", pair, "no_match", version=1).status_code == 303
    decision = steward_app.store.pair_decision("product", *pair)
    assert (decision.verdict, decision.decided_by, decision.version) == ("no_match", "sue", 2)
    entries = [e for e in steward_app.store.audit("product") if e.action == "decide_pair"]
    assert [(e.actor, e.before and e.before["verdict"], e.after["verdict"]) for e in entries] == [
        ("sam", None, "match"),
        ("sue", "match", "no_match"),
    ]


def test_simultaneous_decisions_on_one_pair_keep_exactly_one(steward_app: StewardApp) -> None:
    pair = queue_pair(steward_app, "customer", 1)
    clients = {name: steward_app.client(name) for name in ("sam", "sue")}
    forms = {}
    for name, client in clients.items():
        page = client.get("/review/customer", params={"l": pair[0], "r": pair[1]})
        forms[name] = csrf_of(page.text)
    barrier = threading.Barrier(2)
    results: dict[str, int] = {}

    def post(name: str) -> None:
        barrier.wait()
        response = clients[name].post(
            "/review/customer/decide",
            data={
                "record_l": pair[0],
                "record_r": pair[1],
                "verdict": "match" if name == "sam" else "no_match",
                "expected_version": "0",
                "csrf_token": forms[name],
            },
            follow_redirects=False,
        )
        results[name] = response.status_code

    threads = [threading.Thread(target=post, args=(name,)) for name in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results.values()) == [303, 409]
    winner = next(name for name, status in results.items() if status == 303)
    decision = steward_app.store.pair_decision("customer", *pair)
    assert decision.decided_by == winner and decision.version == 1
    assert len([e for e in steward_app.store.audit("customer") if e.action == "decide_pair"]) == 1


def test_deciding_moves_on_to_the_next_open_pair(steward_app: StewardApp) -> None:
    client = steward_app.client("sam")
    # The queue as the page shows it: strongest first, equal scores by record id.
    shown = sorted(
        (
            (float(row["match_probability"]), *ordered(row["record_id_l"], row["record_id_r"]))
            for row in view(steward_app, "product").queue
        ),
        reverse=True,
    )
    pair, following = shown[0][1:], shown[1][1:]
    response = decide(client, "product", pair, "unsure", comment="colour unclear")
    assert response.status_code == 303
    location = unescape(response.headers["location"])
    assert location.startswith("/review/product?")
    assert f"l={following[0]}".replace(":", "%3A") in location
    decision = steward_app.store.pair_decision("product", *pair)
    assert decision.comment == "colour unclear"


def test_unknown_records_and_verdicts_are_refused(steward_app: StewardApp) -> None:
    client = steward_app.client("sam")
    pair = queue_pair(steward_app, "product")
    assert decide(client, "product", pair, "maybe").status_code == 400
    page = client.get("/review/product", params={"l": "crm:nope", "r": pair[1]})
    assert page.status_code == 404
    assert client.get("/queue/planet").status_code == 404


# queue -------------------------------------------------------------------------------------


def queue_rows(html: str) -> list[str]:
    return re.findall(r'<tr class="(?:open|decided)" data-href="([^"]+)"', html)


def test_the_queue_counts_filters_sorts_and_shows_applied_decisions(
    steward_app: StewardApp,
) -> None:
    client = steward_app.client("sam")
    entity_view = view(steward_app, "customer")
    total = len(entity_view.queue)
    page = client.get("/queue/customer")
    assert re.search(rf'id="left-count">{total}<', page.text)
    assert len(queue_rows(page.text)) == total
    probabilities = [float(p) for p in re.findall(r'class="prob"[^>]*>([\d.]+)%', page.text)]
    assert probabilities == sorted(probabilities, reverse=True)
    ascending = client.get("/queue/customer", params={"sort": "probability", "order": "asc"})
    assert [float(p) for p in re.findall(r'class="prob"[^>]*>([\d.]+)%', ascending.text)] == sorted(
        probabilities
    )

    pair = queue_pair(steward_app, "customer", 0)
    decide(client, "customer", pair, "match")
    page = client.get("/queue/customer")
    assert re.search(rf'id="left-count">{total - 1}<', page.text)
    assert len(queue_rows(page.text)) == total - 1  # open pairs only, by default
    decided = client.get("/queue/customer", params={"status": "decided"})
    assert len(queue_rows(decided.text)) == 1 and "pending next run" in decided.text
    # A run that clusters with the decision in force marks it applied.
    store = steward_app.store
    store.mark_applied(store.constraints("customer"), "20990101T000000Z-test01")
    decided = client.get("/queue/customer", params={"status": "decided"})
    assert "applied · 20990101T000000Z-test01" in decided.text

    source = pair[0].split(":")[0]
    by_source = client.get("/queue/customer", params={"status": "all", "source": source})
    expected = sum(
        1
        for r in entity_view.queue
        if source in (r["record_id_l"].split(":")[0], r["record_id_r"].split(":")[0])
    )
    assert len(queue_rows(by_source.text)) == expected
    label = entity_view.label(pair[1])
    found = client.get("/queue/customer", params={"status": "all", "q": label.upper()})
    assert len(queue_rows(found.text)) >= 1


def test_stewards_take_disjoint_batches_of_the_queue(steward_app: StewardApp) -> None:
    sam, sue = steward_app.client("sam"), steward_app.client("sue")
    token = csrf_of(sam.get("/queue/customer").text)
    sam.post("/queue/customer/assign", data={"count": "2", "csrf_token": token})
    token = csrf_of(sue.get("/queue/customer").text)
    sue.post("/queue/customer/assign", data={"count": "2", "csrf_token": token})
    assignments = steward_app.app.state.context.assignments.of_entity("customer")  # type: ignore[attr-defined]
    mine = {k for k, v in assignments.items() if v == "sam"}
    hers = {k for k, v in assignments.items() if v == "sue"}
    assert len(mine) == 2 and len(hers) == 2 and not mine & hers
    page = sam.get("/queue/customer", params={"assignee": "me"})
    assert len(queue_rows(page.text)) == 2
    # "Start reviewing" opens one of my own pairs first.
    start = unescape(re.search(r'id="start-review" href="([^"]+)"', page.text).group(1))
    assert any(f"l={a}".replace(":", "%3A") in start for a, _ in mine)


# review page -------------------------------------------------------------------------------


def test_the_review_page_shows_both_records_the_waterfall_and_both_masters(
    steward_app: StewardApp,
) -> None:
    client = steward_app.client("vic")
    entity_view = view(steward_app, "product")
    pair = queue_pair(steward_app, "product")
    page = client.get("/review/product", params={"l": pair[0], "r": pair[1]})
    html = page.text
    left, right = entity_view.records[pair[0]], entity_view.records[pair[1]]
    for attribute in entity_view.attributes:
        a, b = left.get(attribute), right.get(attribute)
        if a and b and str(a).casefold() != str(b).casefold():
            assert re.search(rf'<tr class="differs">\s*<th>{words(attribute)}</th>', html)
        elif a and b:
            assert re.search(rf'<tr class="same">\s*<th>{words(attribute)}</th>', html)
    assert 'id="waterfall"' in html and "pairs match" in html  # the prior, in words
    for master_id in {entity_view.masters[pair[0]], entity_view.masters[pair[1]]}:
        assert f"/masters/product/{master_id}" in html
    assert "Golden record" in html


# masters -----------------------------------------------------------------------------------


def test_merge_and_split_are_recorded_with_a_reason_and_validated(steward_app: StewardApp) -> None:
    client = steward_app.client("sam")
    entity_view = view(steward_app, "customer")
    big = next(m for m, members in entity_view.members.items() if len(members) >= 2)
    single = [m for m, members in entity_view.members.items() if len(members) == 1][:1][0]
    page = client.get(f"/masters/customer/{big}")
    assert page.status_code == 200 and "Golden record" in page.text and "Id history" in page.text
    token, run = csrf_of(page.text), entity_view.xref_run_id
    store = steward_app.store

    def post(action: str, **data: object):  # type: ignore[no-untyped-def]
        return client.post(
            f"/masters/customer/{big}/{action}",
            data={"csrf_token": token, "seen_run": run, **data},
        )

    assert "choose another master" in post("merge", other_master_id=big, reason="x").text
    assert "has no members" in post("merge", other_master_id="CUS-NOPE", reason="x").text
    assert "needs a reason" in post("merge", other_master_id=single, reason=" ").text
    stale = post("merge", other_master_id=single, reason="same person", seen_run="old-run")
    assert "rewritten the masters" in stale.text
    assert store.master_changes("customer") == []
    merged = post("merge", other_master_id=single, reason="same person, checked by phone")
    assert "recorded" in merged.text and "pending next run" in merged.text
    members = entity_view.members[big]
    assert "a split needs records" in post("split", records=members, reason="x").text
    assert "are not members" in post("split", records=["crm:nope"], reason="x").text
    # The merge just recorded joins all of big's members: splitting one out contradicts it.
    refused = post("split", records=[members[0]], reason="two people")
    assert refused.status_code == 409 and "would part records a steward joined" in refused.text
    split = post("split", records=[members[0]], reason="two people", override="1")
    assert "Split of 1 record(s)" in split.text
    merge, cut = store.master_changes("customer")
    assert merge.revoked_by == "sam"  # the override revoked it
    assert (merge.kind, sorted(merge.master_ids)) == ("merge", sorted([big, single]))
    assert sorted(merge.records) == sorted(members + entity_view.members[single])
    assert (cut.kind, cut.records, cut.remaining) == ("split", [members[0]], members[1:])
    # Revoking is audited and stops the change from constraining the next run.
    page = client.get(f"/masters/customer/{big}")
    client.post(f"/changes/{cut.id}/revoke", data={"csrf_token": token, "reason": "undo"})
    assert store.master_changes("customer")[1].revoked_by == "sam"
    assert {"merge_masters", "split_master", "revoke_split"} <= {e.action for e in store.audit()}


def test_master_search_by_record_id(steward_app: StewardApp) -> None:
    client = steward_app.client("vic")
    record, master_id = next(iter(view(steward_app, "product").masters.items()))
    response = client.get("/masters/product", params={"q": record}, follow_redirects=False)
    assert response.headers["location"] == f"/masters/product/{master_id}"


# audit -------------------------------------------------------------------------------------


def test_audit_csv_export_has_who_when_before_and_after(steward_app: StewardApp) -> None:
    client = steward_app.client("sam")
    pair = queue_pair(steward_app, "product", 2)
    decide(client, "product", pair, "no_match", comment='=HYPERLINK("http://x")')
    decide(client, "product", pair, "match", version=1)
    response = client.get("/audit.csv", params={"entity": "product"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    decisions = [r for r in rows if r["action"] == "decide_pair"]
    assert [r["actor"] for r in decisions] == ["sam", "sam"]
    assert decisions[0]["subject"] == f"{pair[0]} | {pair[1]}"
    assert decisions[0]["before"] == "" and '"verdict": "no_match"' in decisions[0]["after"]
    assert '"verdict": "no_match"' in decisions[1]["before"]
    assert '"verdict": "match"' in decisions[1]["after"]
    # Free text never runs as a spreadsheet formula.
    assert decisions[0]["comment"].startswith("'=HYPERLINK")
    assert all(r["at"] for r in rows)
    page = client.get("/audit", params={"action": "decide_pair"})
    assert page.status_code == 200 and page.text.count("<td>decide_pair</td>") == 2


# security hygiene --------------------------------------------------------------------------


def test_pages_send_security_headers(steward_app: StewardApp) -> None:
    response = steward_app.client("vic").get("/queue/customer")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    cookie = steward_app.client().get("/login").headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_logs_carry_no_personal_data(
    steward_app: StewardApp, caplog: pytest.LogCaptureFixture
) -> None:
    entity_view = view(steward_app, "customer")
    pair = queue_pair(steward_app, "customer", 2)
    name = entity_view.label(pair[0])
    email = entity_view.records[pair[0]].get("email") or "nobody@example.com"
    caplog.set_level(logging.DEBUG, logger="e360.steward")
    client = steward_app.client("sam")
    client.get("/queue/customer", params={"q": name})
    client.get("/review/customer", params={"l": pair[0], "r": pair[1]})
    decide(client, "customer", pair, "no_match", comment=f"called {email}")
    client.post("/review/customer/decide", data={"record_l": pair[0], "record_r": pair[1]})
    messages = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /review/{entity} 200" in messages  # requests are logged, by route
    for secret in (name, email, pair[0], pair[1], PASSWORD, "sam"):
        assert secret not in messages, secret
