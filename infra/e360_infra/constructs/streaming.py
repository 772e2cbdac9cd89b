"""Central ingestion stream: an MSK Serverless cluster with IAM authentication in the isolated
subnets. Producers (domain systems) and the e360 ingestion consumers authenticate with IAM;
permissions are per topic and per consumer group, never per cluster."""

from __future__ import annotations

from collections.abc import Sequence

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_msk as msk
from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.network import Network

IAM_PORT = 9098  # MSK's SASL/IAM listener (TLS); the only listener MSK Serverless has


class Streaming(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, env: EnvironmentConfig, network: Network
    ) -> None:
        super().__init__(scope, construct_id)
        self.config = env.streaming
        self.cluster_name = env.prefix
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description=f"{env.prefix} MSK Serverless: IAM/TLS clients only",
            allow_all_outbound=False,
        )
        self.cluster = msk.CfnServerlessCluster(
            self,
            "Cluster",
            cluster_name=self.cluster_name,
            client_authentication=msk.CfnServerlessCluster.ClientAuthenticationProperty(
                sasl=msk.CfnServerlessCluster.SaslProperty(
                    iam=msk.CfnServerlessCluster.IamProperty(enabled=True)
                )
            ),
            vpc_configs=[
                msk.CfnServerlessCluster.VpcConfigProperty(
                    subnet_ids=network.vpc.select_subnets(
                        subnet_group_name=network.data_subnets.subnet_group_name
                    ).subnet_ids,
                    security_groups=[self.security_group.security_group_id],
                )
            ],
            tags=dict(env.tags),
        )

    @property
    def cluster_arn(self) -> str:
        return self.cluster.attr_arn

    def _child_arn(self, kind: str, name: str) -> str:
        # arn:...:cluster/<name>/<uuid> -> arn:...:<kind>/<name>/<uuid>/<child>: exact, no wildcard
        # for the uuid MSK assigns at creation.
        parts = cdk.Fn.split(":cluster/", self.cluster_arn)
        return cdk.Fn.join(
            "", [cdk.Fn.select(0, parts), f":{kind}/", cdk.Fn.select(1, parts), f"/{name}"]
        )

    def topic_arn(self, topic: str) -> str:
        return self._child_arn("topic", topic)

    def group_arn(self, group: str) -> str:
        return self._child_arn("group", group)

    def allow_clients(
        self, scope: Construct, construct_id: str, peer: ec2.ISecurityGroup, description: str
    ) -> None:
        """Let a client security group in. The rule is created in the client's stack (`scope`),
        which already depends on this one; putting it here would make the stacks depend on each
        other."""
        ec2.CfnSecurityGroupIngress(
            scope,
            construct_id,
            group_id=self.security_group.security_group_id,
            source_security_group_id=peer.security_group_id,
            ip_protocol="tcp",
            from_port=IAM_PORT,
            to_port=IAM_PORT,
            description=description,
        )

    def grant_consume(
        self, role: iam.IRole, topics: Sequence[str] | None = None, group: str | None = None
    ) -> None:
        """Read the given topics (default: all configured) as the given consumer group."""
        names = list(topics) if topics is not None else [topic.name for topic in self.config.topics]
        self._grant_connect(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:DescribeTopic", "kafka-cluster:ReadData"],
                resources=[self.topic_arn(name) for name in names],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:AlterGroup", "kafka-cluster:DescribeGroup"],
                resources=[self.group_arn(group or self.config.consumer_group)],
            )
        )

    def grant_produce(self, role: iam.IRole, topics: Sequence[str]) -> None:
        """For producers (domain systems): write the given topics only."""
        self._grant_connect(role)
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:DescribeTopic", "kafka-cluster:WriteData"],
                resources=[self.topic_arn(name) for name in topics],
            )
        )

    def _grant_connect(self, role: iam.IRole) -> None:
        role.add_to_principal_policy(
            iam.PolicyStatement(
                # GetBootstrapBrokers: MSK Serverless exposes no bootstrap address to
                # CloudFormation, so clients resolve it at start-up from the cluster ARN.
                actions=[
                    "kafka-cluster:Connect",
                    "kafka-cluster:DescribeCluster",
                    "kafka:GetBootstrapBrokers",
                ],
                resources=[self.cluster_arn],
            )
        )

    def grant_manage_topics(self, role: iam.IRole) -> None:
        """Create and configure the configured topics (not any others)."""
        topics = [self.topic_arn(topic.name) for topic in self.config.topics]
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kafka-cluster:Connect", "kafka-cluster:DescribeCluster"],
                resources=[self.cluster_arn],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "kafka-cluster:CreateTopic",
                    "kafka-cluster:DescribeTopic",
                    "kafka-cluster:AlterTopic",
                    "kafka-cluster:DescribeTopicDynamicConfiguration",
                    "kafka-cluster:AlterTopicDynamicConfiguration",
                ],
                resources=topics,
            )
        )
