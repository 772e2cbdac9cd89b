from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.network import Network
from e360_infra.constructs.streaming import Streaming
from e360_infra.stacks.base import E360Stack


class StreamingStack(E360Stack):
    """MSK Serverless with IAM authentication, and the role domain systems produce with."""

    def __init__(
        self, scope: Construct, construct_id: str, *, env: EnvironmentConfig, network: Network
    ) -> None:
        super().__init__(
            scope, construct_id, env=env, description="MSK Serverless ingestion stream (IAM auth)"
        )
        self.streaming = Streaming(self, "Streaming", env=env, network=network)
        # Producers (domain systems' own roles, or workloads in this account) assume this role
        # to write the configured topics; they cannot read or create any.
        self.producer_role = iam.Role(
            self,
            "ProducerRole",
            role_name=f"{env.prefix}-stream-producers",
            description="Write the e360 ingestion topics",
            assumed_by=iam.AccountRootPrincipal(),
            max_session_duration=cdk.Duration.hours(1),
        )
        self.streaming.grant_produce(
            self.producer_role, [topic.name for topic in env.streaming.topics]
        )
        self.output("ClusterArn", self.streaming.cluster_arn, "MSK Serverless cluster (IAM auth)")
        self.output(
            "Topics",
            ",".join(topic.name for topic in env.streaming.topics),
            "the ingestion topics (see infra/README.md)",
        )
        self.output("ProducerRoleArn", self.producer_role.role_arn, "role producers assume")
