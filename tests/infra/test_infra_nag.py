"""cdk-nag's AWS Solutions checks on every stack of every environment: no unacknowledged finding,
and every acknowledgement carries a reason. Plus CDK's own annotations and template validation:
no errors."""

from __future__ import annotations

import json

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from infra_synth import STACKS, Synthesized


def test_only_reviewed_wildcards_are_acknowledged() -> None:
    """The evidence table accepts the lake's known shapes and nothing broader."""
    from e360_infra.nag import _reason, wildcard_findings

    document = {
        "Statement": [
            {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::other/*"},
            {"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
            {"Effect": "Deny", "Action": "*", "Resource": "*"},
        ]
    }
    findings = wildcard_findings(document)
    assert findings == ["Action::s3:*", "Resource::*", "Resource::arn:aws:s3:::other/*"]
    assert [_reason(finding, document) for finding in findings] == [None, None, None]
    lake = {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::e360-dev-raw-1-r/*"]]}
    ecr_only = {
        "Statement": [{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}]
    }
    assert _reason("Resource::*", ecr_only)
    (lake_finding,) = wildcard_findings(
        {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": lake}]}
    )
    assert lake_finding == "Resource::arn:<AWS::Partition>:s3:::e360-dev-raw-1-r/*"
    assert _reason(lake_finding, document)
    assert _reason("Resource::arn:<AWS::Partition>:glue:eu-west-1:1:table/*/*", document) is None


def _describe(violations: list) -> str:
    return "\n".join(
        f"{v.severity} {v.rule_name}: {[r.construct_path for r in v.violating_resources]}"
        for v in violations
    )


@pytest.mark.parametrize("stack", STACKS)
def test_no_unacknowledged_nag_errors(each: Synthesized, stack: str) -> None:
    errors = [v for v in each.nag[stack] if v.severity == "error"]
    assert not errors, _describe(errors)


@pytest.mark.parametrize("stack", STACKS)
def test_no_unacknowledged_nag_warnings(each: Synthesized, stack: str) -> None:
    # Warnings too: `cdk synth` runs cdk-nag as a validation plugin, which fails on any finding.
    assert not each.nag[stack], _describe(each.nag[stack])


def _acknowledgements(each: Synthesized) -> list[tuple[str, str, str]]:
    """(construct path, rule, reason) of the cdk-nag acknowledgements (CDK adds its own for
    template validation, e.g. W3010 for the named Availability Zones; those are not ours)."""
    found = []
    for stack in each.deployment.stacks:
        for construct in stack.node.find_all():
            for entry in construct.node.metadata:
                if entry.type == cdk.Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    for rule, reason in entry.data.items():
                        if "AwsSolutions-" in rule:
                            found.append((construct.node.path, rule, reason))
    return found


def test_every_acknowledgement_has_a_reason(each: Synthesized) -> None:
    acknowledgements = _acknowledgements(each)
    assert acknowledgements, "expected the reviewed findings to be acknowledged"
    for path, rule, reason in acknowledgements:
        assert len(reason.split()) >= 6, f"{path} {rule}: reason too thin: {reason!r}"


def test_acknowledgements_are_narrow(each: Synthesized) -> None:
    """Acknowledgements sit on resources, never on a whole stack or app."""
    stack_paths = {stack.node.path for stack in each.deployment.stacks}
    for path, rule, _ in _acknowledgements(each):
        assert path not in stack_paths and "/" in path, f"{rule} acknowledged on {path}"


def test_prod_acknowledges_no_environment_exception(prod: Synthesized, dev: Synthesized) -> None:
    """Single-AZ, no deletion protection and no rotation are dev-only acknowledgements."""
    dev_only = {"AwsSolutions-RDS3", "AwsSolutions-RDS10", "AwsSolutions-SMG4"}
    prod_rules = {rule.removeprefix("Annotation::") for _, rule, _ in _acknowledgements(prod)}
    dev_rules = {rule.removeprefix("Annotation::") for _, rule, _ in _acknowledgements(dev)}
    assert not prod_rules & dev_only
    assert dev_only <= dev_rules


@pytest.mark.parametrize("stack", STACKS)
def test_no_cdk_errors_or_warnings(each: Synthesized, stack: str) -> None:
    annotations = assertions.Annotations.from_stack(each.deployment.stacks[STACKS.index(stack)])
    assert not annotations.find_error("*", assertions.Match.any_value())
    assert not annotations.find_warning("*", assertions.Match.any_value())


def test_cloudformation_validation_is_clean(each: Synthesized) -> None:
    """CDK's built-in template validation (property types, GetAtt names, instance classes)."""
    report = each.outdir / "validation-report.json"
    if not report.exists():
        return
    for plugin in json.loads(report.read_text())["pluginReports"]:
        assert plugin["violations"] == [], json.dumps(plugin["violations"])[:2000]


def test_synthesis_fails_on_an_unacknowledged_finding(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The plugin `build(..., nag=True)` registers (what `cdk synth` runs) really gates: one
    bucket without access logs or TLS enforcement makes synthesis fail."""
    from aws_cdk import aws_s3 as s3
    from e360_infra.config import load_environment
    from e360_infra.deployment import build, new_app

    app = new_app(outdir=tmp_path_factory.mktemp("nag-gate"))
    deployment = build(app, load_environment("dev"), nag=True)
    s3.Bucket(deployment.data, "Unreviewed")
    with pytest.raises(Exception, match=r"(?s)ValidationFailed.*Data/Unreviewed.*AwsSolutions-S1"):
        app.synth()
