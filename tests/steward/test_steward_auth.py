"""Users (argon2 hashes, roles) and the load balancer's OIDC identity (ES256 tokens signed
with a real key pair, verified by the app)."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from fastapi.testclient import TestClient
from steward_helpers import project_config

from e360.config import E360Config
from e360.errors import ConfigError
from stewardship.app import create_app
from stewardship.store import DecisionStore
from stewardship.users import UserError, UserStore

SIGNER = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/e360/abc"
KID = "6f0e5c8a-1111-2222-3333-444455556666"
OIDC = "stewardship.auth"


@pytest.fixture
def users(tmp_path: Path) -> UserStore:
    return UserStore(DecisionStore(f"sqlite:///{tmp_path / 'users.db'}"))


def test_passwords_are_stored_as_argon2id_hashes(users: UserStore) -> None:
    users.add("dana", "steward", "a-long-password")
    user = users.get("dana")
    assert (
        user.password_hash.startswith("$argon2id$") and "a-long-password" not in user.password_hash
    )
    assert users.authenticate("dana", "a-long-password").username == "dana"
    assert users.authenticate("dana", "a-long-passworD") is None
    assert users.authenticate("nobody", "a-long-password") is None
    users.set_active("dana", False, actor="admin")
    assert users.authenticate("dana", "a-long-password") is None
    audit = users.store.audit()
    assert [e.action for e in audit] == ["add_user", "deactivate"]
    assert all("a-long-password" not in json.dumps(e.after) for e in audit)


def test_roles_nest_and_bad_users_are_refused(users: UserStore) -> None:
    viewer = users.add("v.one", "viewer", "a-long-password")
    admin = users.add("a.one@example.com", "admin", None)  # an OIDC-only identity
    assert viewer.can("viewer") and not viewer.can("steward")
    assert admin.can("steward") and admin.can("admin")
    assert users.authenticate("a.one@example.com", "") is None  # no password, no local sign-in
    for name, role, password, message in (
        ("x", "viewer", "a-long-password", "not valid"),
        ("eve", "root", "a-long-password", "unknown role"),
        ("eve", "viewer", "short", "at least 10"),
        ("v.one", "viewer", "a-long-password", "already exists"),
    ):
        with pytest.raises(UserError, match=message):
            users.add(name, role, password)


# OIDC behind an Application Load Balancer ------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def alb_token(key: ec.EllipticCurvePrivateKey, claims: dict, **header: object) -> str:
    head = {
        "alg": "ES256",
        "kid": KID,
        "signer": SIGNER,
        "iss": "https://idp",
        "typ": "JWT",
        "client": "e360",
        "exp": claims.get("exp"),
        **header,
    }
    signing_input = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(claims).encode())}"
    r, s = decode_dss_signature(key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return f"{signing_input}.{_b64(signature)}"


@pytest.fixture
def oidc_app(
    steward_project: E360Config,
    tmp_path: Path,
    demo_config_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[TestClient, ec.EllipticCurvePrivateKey, DecisionStore]:
    key = ec.generate_private_key(ec.SECP256R1())
    keys = tmp_path / "alb-keys"
    keys.mkdir()
    (keys / f"{KID}.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    config = project_config(
        steward_project.root,
        demo_config_path,
        **{
            OIDC: "alb_oidc",
            "stewardship.oidc_signer": SIGNER,
            "stewardship.oidc_issuer": "https://idp",
            "stewardship.oidc_key_dir": str(keys),
        },
    )
    store = DecisionStore(f"sqlite:///{tmp_path / 'steward.db'}")
    with pytest.raises(ConfigError, match="E360_STEWARD_SESSION_SECRET"):
        create_app(config, store=store)  # production modes need the secret from outside
    monkeypatch.setenv("E360_STEWARD_SESSION_SECRET", "x" * 40)
    app = create_app(config, store=store)
    return TestClient(app, base_url="http://127.0.0.1"), key, store


def claims(**changes: object) -> dict:
    return {
        "sub": "sub-123",
        "email": "olga@example.com",
        "iss": "https://idp",
        # Built when pytest collects the parameters, maybe long before the test runs.
        "exp": int(time.time()) + 86_400,
        **changes,
    }


def test_an_alb_identity_signs_in_and_gets_the_default_role(oidc_app) -> None:  # type: ignore[no-untyped-def]
    client, key, store = oidc_app
    headers = {"x-amzn-oidc-identity": "sub-123", "x-amzn-oidc-data": alb_token(key, claims())}
    page = client.get("/queue/customer", headers=headers)
    assert page.status_code == 200 and "olga@example.com" in page.text
    user = UserStore(store).get("olga@example.com")
    assert (user.role, user.password_hash) == ("viewer", None)
    assert 'role-viewer">viewer<' in page.text
    # An admin's promotion takes effect on the next request; admin pages stay closed.
    UserStore(store).set_role("olga@example.com", "steward", actor="test")
    page = client.get("/queue/customer", headers=headers)
    assert 'role-steward">steward<' in page.text
    assert client.get("/admin/users", headers=headers).status_code == 403
    assert [e.action for e in store.audit()] == ["add_user", "set_role"]


@pytest.mark.parametrize(
    ("identity", "token_claims", "header", "tamper", "reason"),
    [
        ("sub-123", None, {}, False, "no OIDC identity"),
        ("sub-123", claims(), {"alg": "none"}, False, "not ES256"),
        (
            "sub-123",
            claims(),
            {"signer": SIGNER.replace("abc", "evil")},
            False,
            "another load balancer",
        ),
        ("sub-123", claims(exp=int(time.time()) - 5), {}, False, "expired"),
        ("sub-123", claims(iss="https://evil"), {}, False, "another issuer"),
        ("sub-999", claims(), {}, False, "subject is not"),
        ("sub-123", claims(), {}, True, "signature does not verify"),
        ("sub-123", claims(), {"kid": "unknown-key"}, False, "unknown key"),
    ],
)
def test_untrustworthy_alb_headers_are_refused(
    oidc_app,
    identity,
    token_claims,
    header,
    tamper,
    reason,  # type: ignore[no-untyped-def]
) -> None:
    client, key, store = oidc_app
    headers = {"x-amzn-oidc-identity": identity}
    if token_claims is not None:
        token = alb_token(key, token_claims, **header)
        if tamper:
            head, body, signature = token.split(".")
            forged = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
            forged["email"] = "admin@example.com"
            token = f"{head}.{_b64(json.dumps(forged).encode())}.{signature}"
        headers["x-amzn-oidc-data"] = token
    response = client.get("/queue/customer", headers=headers)
    assert response.status_code == 403
    assert reason in response.text
    assert UserStore(store).list() == []
