"""cdk-nag (v3) acknowledgements: every one carries its reason, and IAM wildcards are acknowledged
only when they match a known, reviewed pattern, so a new wildcard fails the nag test.

cdk-nag 3 reads acknowledgements from `Validations.of(construct).acknowledge(...)`, and an
`AwsSolutions-IAM5` finding must be acknowledged one by one (`AwsSolutions-IAM5[Resource::...]`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import IConstruct

# Actions that have no resource-level permissions in IAM: `Resource: *` is the only option.
NO_RESOURCE_LEVEL_ACTIONS: frozenset[str] = frozenset(
    {
        "ecr:GetAuthorizationToken",
        "lakeformation:GetDataAccess",
    }
)

# (pattern on the finding, reason). Findings look like `Action::s3:Get*` or
# `Resource::arn:<AWS::Partition>:s3:::e360-dev-raw-111111111111-eu-west-1/*`. No action
# wildcard is accepted: the policies name their actions.
WILDCARD_EVIDENCE: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"^Resource::arn:<AWS::Partition>:s3:::e360-[a-z0-9-]+(/[a-z0-9_-]+)*/\*$"),
        "object-level S3 actions need the objects of one named e360 bucket (or one prefix of it)",
    ),
    (
        re.compile(
            r"^Resource::arn:<AWS::Partition>:glue:(<AWS::Region>|[a-z0-9-]+):"
            r"(<AWS::AccountId>|\d{12}):table/"
            r"(raw|quarantine|standardized|master|conformed)/\*$"
        ),
        "the pipeline creates the Iceberg tables of an e360 zone at run time, so their names "
        "are not known at deploy time; scoped to one zone database",
    ),
    (
        re.compile(r"^Resource::<[A-Za-z0-9]+\.Arn>/jobruns/\*$"),
        "EMR Serverless job run ids are created per run; scoped to the one e360 application",
    ),
)


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge one cdk-nag finding on a construct (and everything below it)."""
    if not reason.strip():
        raise ValueError(f"acknowledging {rule} needs a reason")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def flatten_reference(node: Any) -> str:
    """cdk-nag's rendering of a CloudFormation value (`flattenCfnReference`)."""
    if node is None:
        return ""
    if isinstance(node, str):
        return node.replace("${", "<").replace("}", ">")
    if isinstance(node, dict):
        if "Fn::Join" in node:
            delimiter, items = node["Fn::Join"]
            return delimiter.join(flatten_reference(item) for item in items)
        if "Fn::Sub" in node:
            return flatten_reference(node["Fn::Sub"])
        if "Fn::GetAtt" in node:
            resource, attribute = node["Fn::GetAtt"]
            return f"<{flatten_reference(resource)}.{flatten_reference(attribute)}>"
        if "Fn::ImportValue" in node:
            return flatten_reference(node["Fn::ImportValue"])
        if "Ref" in node:
            return f"<{flatten_reference(node['Ref'])}>"
    return json.dumps(node, separators=(",", ":"))


def wildcard_findings(document: dict[str, Any]) -> list[str]:
    """The `AwsSolutions-IAM5` findings of a resolved policy document, as cdk-nag reports them."""
    findings: list[str] = []
    for statement in _as_list(document.get("Statement", [])):
        if statement.get("Effect") != "Allow":
            continue
        for action in _as_list(statement.get("Action", [])):
            if "*" in action and f"Action::{action}" not in findings:
                findings.append(f"Action::{action}")
        for resource in _as_list(statement.get("Resource", [])):
            flat = flatten_reference(resource)
            if "*" in flat and f"Resource::{flat}" not in findings:
                findings.append(f"Resource::{flat}")
    return findings


def _star_resource_actions(document: dict[str, Any]) -> set[str]:
    actions: set[str] = set()
    for statement in _as_list(document.get("Statement", [])):
        if statement.get("Effect") == "Allow" and "*" in _as_list(statement.get("Resource", [])):
            actions.update(_as_list(statement.get("Action", [])))
    return actions


def _policies(scope: IConstruct) -> Iterator[iam.CfnPolicy]:
    for node in scope.node.find_all():
        if isinstance(node, iam.CfnPolicy):
            yield node


def acknowledge_iam_wildcards(scopes: Iterable[IConstruct]) -> None:
    """Acknowledge the IAM5 findings of every policy under `scopes` that match known evidence.

    Runs once the stacks are complete (grants add statements until then). Findings matching no
    pattern stay unacknowledged on purpose.
    """
    for scope in scopes:
        for policy in _policies(scope):
            document = cdk.Stack.of(policy).resolve(policy.policy_document)
            for finding in wildcard_findings(document):
                reason = _reason(finding, document)
                if reason:
                    acknowledge(policy, f"AwsSolutions-IAM5[{finding}]", reason)


def _reason(finding: str, document: dict[str, Any]) -> str | None:
    if finding == "Resource::*":
        actions = _star_resource_actions(document)
        if actions and actions <= NO_RESOURCE_LEVEL_ACTIONS:
            return (
                f"{', '.join(sorted(actions))} support no resource-level permissions, so IAM "
                "only accepts Resource '*' for them"
            )
        return None
    for pattern, reason in WILDCARD_EVIDENCE:
        if pattern.match(finding):
            return reason
    return None
