"""The identity an AWS Application Load Balancer passes on after OIDC sign-in.

The ALB authenticates the user with the identity provider and forwards two headers:
`x-amzn-oidc-identity` (the subject) and `x-amzn-oidc-data` (a JWT with the user claims,
signed by the ALB with ES256; its header names the `signer` — the ALB's ARN — and the `kid`
of the signing key). What is checked here, offline:

- the token is a well-formed JWT whose header says `alg` ES256 and names the configured
  `signer` (so a token minted by another load balancer is refused);
- it has not expired, its issuer is the configured one, and its subject is the identity
  header's (the two headers belong together);
- its signature, when the ALB's public keys are configured (`oidc_key_dir`, one
  `<kid>.pem` per key; needs the `cryptography` package).

What production must add (see README "Data stewards"): fetch the ALB's public key for the
`kid` from `https://public-keys.auth.elb.<region>.amazonaws.com/<kid>` (keys rotate; cache
them) so every signature is verified, and keep the app reachable only through the ALB
(security group) so nobody can send these headers directly.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e360.config import StewardshipSettings
from e360.errors import E360Error

_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


class OidcError(E360Error):
    """The load balancer's identity headers are missing or cannot be trusted."""


@dataclass(frozen=True)
class OidcIdentity:
    subject: str
    username: str
    claims: dict[str, Any]


def _b64url(part: str) -> bytes:
    # The ALB pads its base64url segments; other issuers do not. Accept both.
    part = part.strip().rstrip("=")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except (binascii.Error, ValueError):
        raise OidcError("the OIDC token is not valid base64url") from None


def _json(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64url(part))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise OidcError(f"the OIDC token {what} is not JSON") from None
    if not isinstance(value, dict):
        raise OidcError(f"the OIDC token {what} is not a JSON object")
    return value


def verify_alb_identity(
    identity: str | None,
    token: str | None,
    settings: StewardshipSettings,
    *,
    now: float | None = None,
) -> OidcIdentity:
    """The signed-in user named by the ALB headers, or OidcError saying what is wrong."""
    if not identity or not token:
        raise OidcError("no OIDC identity from the load balancer")
    parts = token.split(".")
    if len(parts) != 3:
        raise OidcError("the OIDC token is not a JWT")
    header = _json(parts[0], "header")
    claims = _json(parts[1], "payload")
    if header.get("alg") != "ES256":
        raise OidcError(f"the OIDC token's alg is {header.get('alg')!r}, not ES256")
    if settings.oidc_signer is not None and header.get("signer") != settings.oidc_signer:
        raise OidcError("the OIDC token was signed by another load balancer")
    current = time.time() if now is None else now
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp < current:
        raise OidcError("the OIDC token has expired")
    if settings.oidc_issuer is not None and claims.get("iss") != settings.oidc_issuer:
        raise OidcError("the OIDC token comes from another issuer")
    if claims.get("sub") != identity:
        raise OidcError("the OIDC token's subject is not the identity header's")
    if settings.oidc_key_dir is not None:
        _verify_signature(parts, header, settings.oidc_key_dir)
    username = claims.get(settings.oidc_username_claim) or identity
    if not isinstance(username, str):
        raise OidcError(f"the OIDC claim {settings.oidc_username_claim!r} is not a string")
    return OidcIdentity(subject=identity, username=username, claims=claims)


def _verify_signature(parts: list[str], header: dict[str, Any], key_dir: Path) -> None:
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        from cryptography.hazmat.primitives.serialization import load_pem_public_key
    except ImportError:
        raise OidcError(
            "stewardship.oidc_key_dir is set but the 'cryptography' package is not installed"
        ) from None
    kid = header.get("kid")
    if not isinstance(kid, str) or not _KID_RE.match(kid):
        raise OidcError("the OIDC token names no usable key id")
    path = key_dir / f"{kid}.pem"
    if not path.is_file():
        raise OidcError("the OIDC token is signed with an unknown key")
    key = load_pem_public_key(path.read_bytes())
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise OidcError(f"{path}: not an elliptic-curve public key")
    raw = _b64url(parts[2])
    if len(raw) != 64:
        raise OidcError("the OIDC token's signature is not an ES256 signature")
    signature = encode_dss_signature(
        int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    )
    signed = f"{parts[0]}.{parts[1]}".encode()
    try:
        key.verify(signature, signed, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        raise OidcError("the OIDC token's signature does not verify") from None
