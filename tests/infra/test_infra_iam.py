"""Least privilege, checked on every IAM policy of every synthesized template: no wildcard actions
anywhere, `Resource: *` only for actions that have no resource-level permissions, no NotAction,
and resource policies grant `service:*` to nobody but the account itself (KMS key admin)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from e360_infra.nag import NO_RESOURCE_LEVEL_ACTIONS
from infra_synth import STACKS, Synthesized

WILDCARD_ACTION = re.compile(r"^(\*|[a-z0-9-]+:\*)$")


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def identity_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        properties = resource.get("Properties", {})
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
            documents = [properties["PolicyDocument"]]
        elif resource["Type"] in ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group"):
            documents = [policy["PolicyDocument"] for policy in properties.get("Policies", [])]
        else:
            continue
        for document in documents:
            for statement in _list(document["Statement"]):
                yield logical_id, statement


RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::ECR::Repository": "RepositoryPolicyText",
    "AWS::SecretsManager::ResourcePolicy": "ResourcePolicy",
}


def resource_statements(template: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, resource in template["Resources"].items():
        key = RESOURCE_POLICIES.get(resource["Type"])
        document = resource.get("Properties", {}).get(key) if key else None
        for statement in _list(document["Statement"]) if document else []:
            yield logical_id, statement


@pytest.mark.parametrize("stack", STACKS)
def test_identity_policies_are_least_privilege(each: Synthesized, stack: str) -> None:
    problems = []
    count = 0
    for logical_id, statement in identity_statements(each.templates[stack]):
        count += 1
        assert "NotAction" not in statement and "NotResource" not in statement, logical_id
        if statement["Effect"] != "Allow":
            continue
        actions = _list(statement["Action"])
        resources = _list(statement["Resource"])
        problems += [
            f"{logical_id}: wildcard action {a}" for a in actions if WILDCARD_ACTION.match(a)
        ]
        if "*" in resources:
            loose = sorted(set(actions) - NO_RESOURCE_LEVEL_ACTIONS)
            if loose:
                problems.append(f"{logical_id}: {loose} on Resource '*'")
    assert not problems, "\n".join(problems)
    if each.resources(stack, "AWS::IAM::Role"):
        assert count, f"{stack}: roles but no statements; the scan is looking in the wrong place"


@pytest.mark.parametrize("stack", STACKS)
def test_resource_policies_grant_no_wildcards_outside_the_account(
    each: Synthesized, stack: str
) -> None:
    root = f":iam::{each.env.account}:root"
    for logical_id, statement in resource_statements(each.templates[stack]):
        if statement["Effect"] != "Allow":
            continue
        principal = json.dumps(statement["Principal"])
        assert '"*"' not in principal, f"{logical_id}: public principal"
        if any(WILDCARD_ACTION.match(a) for a in _list(statement["Action"])):
            # The default key policy: the account administers its own key (through IAM).
            assert root in principal and statement["Action"] == "kms:*", logical_id


@pytest.mark.parametrize("stack", STACKS)
def test_roles_trust_services_or_this_account_only(each: Synthesized, stack: str) -> None:
    root = f":iam::{each.env.account}:root"
    for logical_id, role in each.resources(stack, "AWS::IAM::Role").items():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            principal = statement["Principal"]
            assert set(principal) <= {"Service", "AWS"}, logical_id
            if "AWS" in principal:
                assert root in json.dumps(principal["AWS"]), logical_id


def test_no_role_can_administer_iam(synthesized: dict[str, Synthesized]) -> None:
    for synth in synthesized.values():
        for stack in STACKS:
            for logical_id, statement in identity_statements(synth.templates[stack]):
                actions = _list(statement.get("Action", []))
                risky = [a for a in actions if a.startswith("iam:") and a != "iam:PassRole"]
                assert not risky, f"{synth.env.name}/{stack}/{logical_id}: {risky}"
