"""checkov findings on the synthesized templates that are accepted, each with its reason.

checkov reports severities only with a Prisma Cloud API key; offline (CI, `make test`) it reports
none, so the tests accept a failed check only when it is listed here (and never one reported as
HIGH or CRITICAL). infra/README.md lists the same entries; a test keeps the two in step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class AcceptedCheck:
    check_id: str
    resource: str  # regex on checkov's resource id, `<CloudFormation type>.<logical id>`
    environments: tuple[str, ...]
    reason: str

    def matches(self, check_id: str, resource: str, environment: str) -> bool:
        return (
            check_id == self.check_id
            and environment in self.environments
            and re.fullmatch(self.resource, resource) is not None
        )


_AUTO_DELETE = (
    r"AWS::Lambda::Function\.CustomS3AutoDeleteObjectsCustomResourceProviderHandler[0-9A-F]{8}"
)
_AUTO_DELETE_REASON = (
    "CDK's empty-bucket-on-delete function of environments with `removal: destroy`; it runs "
    "only while CloudFormation deletes the stack, calls nothing but the S3 API, and is invoked "
    "synchronously by CloudFormation (no queue to dead-letter, no concurrency to bound)"
)

ACCEPTED: tuple[AcceptedCheck, ...] = (
    AcceptedCheck(
        "CKV_AWS_18",
        r"AWS::S3::Bucket\.LakeLogs[0-9A-F]{8}",
        ("dev", "prod"),
        "The log bucket receives the S3 access logs of the lake buckets and the ALB logs; "
        "logging it into itself would loop, into another bucket would need a bucket per level",
    ),
    AcceptedCheck("CKV_AWS_115", _AUTO_DELETE, ("dev",), _AUTO_DELETE_REASON),
    AcceptedCheck("CKV_AWS_116", _AUTO_DELETE, ("dev",), _AUTO_DELETE_REASON),
    AcceptedCheck("CKV_AWS_117", _AUTO_DELETE, ("dev",), _AUTO_DELETE_REASON),
    AcceptedCheck(
        "CKV_AWS_157",
        r"AWS::RDS::DBInstance\.ComputeDatabase[0-9A-F]{8}",
        ("dev",),
        "dev runs a single-AZ database to stay cheap (`compute.database.multi_az: false`); "
        "prod is Multi-AZ",
    ),
)

BLOCKING_SEVERITIES = frozenset({"HIGH", "CRITICAL"})


def accepted(check_id: str, resource: str, environment: str) -> AcceptedCheck | None:
    return next((a for a in ACCEPTED if a.matches(check_id, resource, environment)), None)
