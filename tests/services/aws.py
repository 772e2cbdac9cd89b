"""moto's server standing in for S3 and the Glue Data Catalog, on a free 127.0.0.1 port."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from services._util import free_port, unavailable, wait_for_port

REGION = "eu-west-1"


@dataclass
class AwsServer:
    endpoint: str
    region: str = REGION

    def client(self, service: str) -> Any:
        import boto3

        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def catalog_properties(self) -> dict[str, str]:
        """pyiceberg GlueCatalog + S3 FileIO properties pointing at this server."""
        props = {}
        for prefix in ("glue", "s3"):
            props.update(
                {
                    f"{prefix}.endpoint": self.endpoint,
                    f"{prefix}.region": self.region,
                    f"{prefix}.access-key-id": "testing",
                    f"{prefix}.secret-access-key": "testing",
                }
            )
        return props

    def create_bucket(self, name: str) -> None:
        self.client("s3").create_bucket(
            Bucket=name, CreateBucketConfiguration={"LocationConstraint": self.region}
        )


@pytest.fixture(scope="session")
def aws_server() -> Iterator[AwsServer]:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError:
        unavailable("moto[server] is not installed")
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        if not wait_for_port(port):
            unavailable(f"the moto server did not start on 127.0.0.1:{port}")
        yield AwsServer(endpoint=f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@pytest.fixture
def aws_env(aws_server: AwsServer, monkeypatch: pytest.MonkeyPatch) -> AwsServer:
    """Credentials for boto3 clients built from the environment (never real ones)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": aws_server.region,
        "AWS_REGION": aws_server.region,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return aws_server
