"""A stream section of e360.yaml -> librdkafka settings (plaintext, TLS, or MSK with IAM)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from e360.config import StreamSettings
from e360.errors import ConfigError


def group_id(source: str, stream: StreamSettings) -> str:
    return stream.group_id or f"e360.{source}"


def consumer_settings(
    source: str, stream: StreamSettings, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Consumer settings: offsets are e360's business (kept in the table), never auto-committed."""
    settings: dict[str, Any] = {
        "bootstrap.servers": stream.bootstrap_servers,
        "group.id": group_id(source, stream),
        "client.id": f"e360-{source}",
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        # Only for partitions the table has never landed: then read from the beginning.
        "auto.offset.reset": "earliest",
        "enable.partition.eof": False,
    }
    settings.update(security_settings(source, stream, environ))
    settings.update(stream.client)
    return settings


def client_settings(
    source: str, stream: StreamSettings, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Settings for a group-less client (status, watermarks)."""
    return {
        "bootstrap.servers": stream.bootstrap_servers,
        "group.id": f"{group_id(source, stream)}.status",
        "enable.auto.commit": False,
        **security_settings(source, stream, environ),
        **stream.client,
    }


def security_settings(
    source: str, stream: StreamSettings, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    tls: dict[str, Any] = {"ssl.ca.location": stream.ca_location} if stream.ca_location else {}
    if stream.security == "plaintext":
        return {"security.protocol": "PLAINTEXT"}
    if stream.security == "tls":
        return {"security.protocol": "SSL", **tls}
    env = os.environ if environ is None else environ
    region = stream.region or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError(
            f"sources.{source}.stream.region: msk_iam needs the cluster's AWS region "
            "(set it here or in AWS_REGION)"
        )
    return {
        "security.protocol": "SASL_SSL",
        "sasl.mechanisms": "OAUTHBEARER",
        "oauth_cb": MskIamToken(region),
        **tls,
    }


@dataclass(frozen=True)
class MskIamToken:
    """librdkafka's OAUTHBEARER callback: a SigV4-signed MSK token from the AWS credentials
    (a callable object, so the settings' own tests can read its region)."""

    region: str

    def __call__(self, _oauthbearer_config: str) -> tuple[str, float]:
        from aws_msk_iam_sasl_signer import MSKAuthTokenProvider

        token, expiry_ms = MSKAuthTokenProvider.generate_auth_token(self.region)
        return token, expiry_ms / 1000
