"""`stewardship`: the store of steward decisions and how the steward app signs users in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from e360.config.base import Section


class StewardshipSettings(Section):
    """Where steward decisions live: SQLite beside the project by default, RDS in production."""

    url: str | None = None  # a SQLAlchemy URL; the password comes from the environment
    # The steward app (`e360 steward serve`): `local` users with hashed passwords, or the
    # identity an AWS Application Load Balancer puts in its OIDC headers.
    auth: Literal["local", "alb_oidc"] = "local"
    # The environment variable holding the session-signing secret (required in production;
    # embedded, a key file beside the SQLite store is created on first use).
    session_secret_env: str = "E360_STEWARD_SESSION_SECRET"
    session_max_age_hours: float = Field(default=8, gt=0)
    secure_cookies: bool = False  # True behind HTTPS (the load balancer terminates TLS)
    oidc_identity_header: str = "x-amzn-oidc-identity"
    oidc_data_header: str = "x-amzn-oidc-data"
    oidc_signer: str | None = None  # the ALB's ARN: the `signer` the token header must name
    oidc_issuer: str | None = None  # the identity provider's issuer URL, when it must match
    oidc_username_claim: str = "email"  # which claim names the user in the audit trail
    # PEM public keys of the ALB, one `<kid>.pem` per key id: signatures are verified when set.
    oidc_key_dir: Path | None = None
    # The role of an OIDC identity signing in for the first time (none: refused until an
    # admin registers it).
    oidc_default_role: Literal["none", "viewer", "steward"] = "viewer"
