"""Helpers shared by the steward app's tests (fixtures live in conftest.py)."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

from fastapi.testclient import TestClient

from e360.config import E360Config, load_config
from stewardship.app.server import BackgroundServer
from stewardship.store import DecisionStore
from stewardship.users import UserStore

CHROMIUM = Path("/usr/bin/chromium")
PASSWORD = "steward-test-password"
# Small data; the customer review band is widened and the customer model kept to plain
# comparisons so a few hundred customers still leave pairs in doubt for a steward (the
# defaults, with phonetic, swapped-name and whole-address evidence, leave none in doubt here).
CUSTOMERS = 300
OVERRIDES = {
    "entities.customer.matching.review_band": [0.1, 0.9],
    "entities.customer.matching.comparisons": [
        {"type": "name", "column": "first_name", "term_frequency": True},
        {"type": "name", "column": "last_name", "term_frequency": True},
        {"type": "date_of_birth", "column": "date_of_birth"},
        {"type": "email", "column": "email"},
        {"type": "exact", "column": "phone"},
        {"type": "postcode", "column": "postcode"},
        {"type": "exact", "column": "gender"},
    ],
}
USERS = {"alice": "admin", "sam": "steward", "sue": "steward", "vic": "viewer"}


def project_config(root: Path, demo_config_path: Path, **extra: object) -> E360Config:
    overrides = {"project.root": str(root), **OVERRIDES, **extra}
    return load_config(demo_config_path, overrides=overrides, environ={})


def add_users(store: DecisionStore) -> None:
    users = UserStore(store)
    for name, role in USERS.items():
        if users.get(name) is None:
            users.add(name, role, PASSWORD, actor="test")


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf-token" content="([^"]+)"', html)
    assert match, "page carries no CSRF token"
    return match.group(1)


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> None:
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text


@dataclass
class StewardApp:
    config: E360Config
    store: DecisionStore
    app: object

    def client(self, username: str | None = None) -> TestClient:
        client = TestClient(self.app, base_url="http://127.0.0.1")
        if username is not None:
            sign_in(client, username)
        return client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def sign_in_page(page, server: BackgroundServer, username: str, path: str = "/") -> None:  # type: ignore[no-untyped-def]
    """Sign in through the browser's login form, landing on `path`."""
    page.goto(server.url + path)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("form[action='/login'] button[type=submit]")
    page.wait_for_load_state()


def store_of(server: BackgroundServer) -> DecisionStore:
    """The decision store the running app writes to."""
    return server.app.state.context.store
