"""What every e360 stack shares: explicit account and region (synthesis never looks anything
up), a predictable name, termination protection where data is retained, and the env's tags."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from e360_infra.config import EnvironmentConfig


class E360Stack(cdk.Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, env: EnvironmentConfig, description: str
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            stack_name=f"{env.prefix}-{construct_id.lower()}",
            description=f"e360 ({env.name}): {description}",
            env=cdk.Environment(account=env.account, region=env.region),
            termination_protection=env.retain,
        )
        self.config = env
        for key, value in env.tags.items():
            cdk.Tags.of(self).add(key, value)

    def output(self, construct_id: str, value: str, description: str) -> cdk.CfnOutput:
        return cdk.CfnOutput(self, construct_id, value=value, description=description)
