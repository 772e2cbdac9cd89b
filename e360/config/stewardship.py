"""`stewardship`: the store of steward decisions and how the steward app signs users in."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from e360.config.base import Section


class StewardshipSettings(Section):
    """Where steward decisions live: SQLite beside the project by default, RDS in production."""

    url: str | None = None
    """The decision store's SQLAlchemy URL (`${VAR}` expanded from the environment); default: SQLite
    beside the project.
    """
    auth: Literal["local", "alb_oidc"] = "local"
    """The steward app (`e360 steward serve`): `local` users with hashed passwords, or the
    identity an AWS Application Load Balancer puts in its OIDC headers.
    """
    session_secret_env: str = "E360_STEWARD_SESSION_SECRET"
    """The environment variable holding the session-signing secret (required in production;
    embedded, a key file beside the SQLite store is created on first use).
    """
    session_max_age_hours: float = Field(default=8, gt=0)
    """A signed-in session lasts this long."""
    secure_cookies: bool = False
    """True behind HTTPS (the load balancer terminates TLS)."""
    oidc_identity_header: str = "x-amzn-oidc-identity"
    """The header holding the ALB's user identity."""
    oidc_data_header: str = "x-amzn-oidc-data"
    """The header holding the ALB's signed OIDC claims."""
    oidc_signer: str | None = None
    """The ALB's ARN: the `signer` the token header must name."""
    oidc_issuer: str | None = None
    """The identity provider's issuer URL, when it must match."""
    oidc_username_claim: str = "email"
    """Which claim names the user in the audit trail."""
    oidc_key_dir: Path | None = None
    """PEM public keys of the ALB, one `<kid>.pem` per key id: signatures are verified when set."""
    oidc_default_role: Literal["none", "viewer", "steward"] = "viewer"
    """The role of an OIDC identity signing in for the first time (none: refused until an
    admin registers it).
    """
