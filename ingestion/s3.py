"""Landing files in S3: listed under a source's prefix, fetched by ETag, landed like local files.

An object's identity is `s3://bucket/key#ETag`: re-ingesting an unchanged object is a no-op
decided from the listing alone, without a download (and the same bytes under another key are
still caught by their SHA-256, like local files). The object is fetched whole (conditional on that ETag, so the bytes are the ones the
identity names) before anything commits: it lands whole or not at all.
"""

from __future__ import annotations

import fnmatch
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from e360.config import S3Location
from e360.errors import IngestError


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str
    size: int

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def identity(self) -> str:
        return f"{self.uri}#{self.etag}"


def s3_client(location: S3Location) -> Any:
    import boto3

    return boto3.client("s3", region_name=location.region, endpoint_url=location.endpoint_url)


def list_objects(client: Any, location: S3Location, pattern: str) -> list[S3Object]:
    """Objects under the prefix whose key (relative to the prefix) matches the glob."""
    prefix = location.prefix
    found = []
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=location.bucket, Prefix=prefix
        )
        for page in pages:
            for item in page.get("Contents", []):
                key = item["Key"]
                if key.endswith("/") or not fnmatch.fnmatchcase(key[len(prefix) :], pattern):
                    continue
                found.append(
                    S3Object(location.bucket, key, item["ETag"].strip('"'), int(item["Size"]))
                )
    except Exception as exc:
        raise IngestError(
            f"s3://{location.bucket}/{prefix}: cannot list landing files: {_reason(exc)}"
        ) from None
    return sorted(found, key=lambda o: o.key)


def list_keys(client: Any, location: S3Location) -> set[str]:
    """Every key under the prefix (ready markers such as `_SUCCESS` match no data glob)."""
    try:
        pages = client.get_paginator("list_objects_v2").paginate(
            Bucket=location.bucket, Prefix=location.prefix
        )
        return {item["Key"] for page in pages for item in page.get("Contents", [])}
    except Exception as exc:
        raise IngestError(
            f"s3://{location.bucket}/{location.prefix}: cannot list landing files: {_reason(exc)}"
        ) from None


@contextmanager
def fetched(client: Any, obj: S3Object) -> Iterator[Path]:
    """The object's bytes in a temporary file, exactly the version its identity names."""
    with tempfile.TemporaryDirectory(prefix="e360-s3-") as folder:
        path = Path(folder) / Path(obj.key).name
        try:
            # IfMatch: an object replaced since the listing fails here instead of landing
            # other bytes under this identity; the next run sees the new ETag.
            body = client.get_object(Bucket=obj.bucket, Key=obj.key, IfMatch=obj.etag)["Body"]
            with path.open("wb") as out:
                for chunk in iter(lambda: body.read(1 << 20), b""):
                    out.write(chunk)
        except Exception as exc:
            raise IngestError(f"{obj.uri}: cannot download: {_reason(exc)}") from None
        yield path


def _reason(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict) and "Error" in response:
        error = response["Error"]
        return f"{error.get('Code')}: {error.get('Message') or ''}".strip()
    return f"{type(exc).__name__}: {exc}"
