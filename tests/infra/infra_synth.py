"""One environment's app, synthesized for the tests (see conftest.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from e360_infra.config import EnvironmentConfig, load_environment

ENVIRONMENTS = ("dev", "prod")
STACKS = ("Images", "Network", "Data", "Streaming", "Warehouse", "Compute")


@dataclass
class Synthesized:
    """One environment's app after synthesis."""

    env: EnvironmentConfig
    deployment: Any  # e360_infra.deployment.Deployment
    outdir: Path
    templates: dict[str, dict[str, Any]]  # stack id -> CloudFormation template
    nag: dict[str, list[Any]] = field(default_factory=dict)  # stack id -> cdk-nag violations

    def resources(self, stack: str, type_: str) -> dict[str, dict[str, Any]]:
        return {
            logical_id: resource
            for logical_id, resource in self.templates[stack]["Resources"].items()
            if resource["Type"] == type_
        }

    def one(self, stack: str, type_: str) -> dict[str, Any]:
        found = self.resources(stack, type_)
        assert len(found) == 1, f"{stack}: expected one {type_}, found {sorted(found)}"
        return next(iter(found.values()))["Properties"]

    def template(self, stack: str) -> Any:
        from aws_cdk import assertions

        return assertions.Template.from_json(self.templates[stack])


def synthesize(name: str, outdir: Path) -> Synthesized:
    from cdk_nag import AwsSolutionsChecks
    from e360_infra.deployment import build, new_app

    env = load_environment(name)
    app = new_app(outdir=outdir)
    # cdk-nag runs below, per stack, so a finding is a test failure with a message rather than
    # a synthesis error.
    deployment = build(app, env, nag=False)
    assembly = app.synth()
    templates = {
        stack.node.id: assembly.get_stack_by_name(stack.stack_name).template
        for stack in deployment.stacks
    }
    pack = AwsSolutionsChecks()
    nag = {
        stack.node.id: list(pack.validate_scope(stack).violations) for stack in deployment.stacks
    }
    return Synthesized(env, deployment, outdir, templates, nag)
