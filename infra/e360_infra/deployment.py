"""Compose one environment's stacks into a CDK app; `infra/app.py` and the tests both use it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks

from e360_infra.config import EnvironmentConfig
from e360_infra.nag import acknowledge_iam_wildcards
from e360_infra.nag_acknowledgements import acknowledge_reviewed_findings
from e360_infra.stacks import (
    ComputeStack,
    DataStack,
    ImagesStack,
    NetworkStack,
    StreamingStack,
    WarehouseStack,
)

# Feature flags the stacks rely on (kept here, not in cdk.json, so an in-process App() in the
# tests synthesizes exactly what `cdk synth` does).
FEATURE_FLAGS: dict[str, object] = {
    # Exports protect the producing stack from removing what another stack still uses.
    "@aws-cdk/core:defaultCrossStackReferences": "strong",
    "@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True,
    "@aws-cdk/aws-s3:createDefaultLoggingPolicy": True,
    "@aws-cdk/aws-iam:minimizePolicies": True,
    "@aws-cdk/aws-iam:standardizedServicePrincipals": True,
    "@aws-cdk/aws-ecs:arnFormatIncludesClusterName": True,
    "@aws-cdk/aws-rds:preventRenderingDeprecatedCredentials": True,
    "@aws-cdk/core:validateSnapshotRemovalPolicy": True,
}


@dataclass(frozen=True)
class Deployment:
    env: EnvironmentConfig
    images: ImagesStack
    network: NetworkStack
    data: DataStack
    streaming: StreamingStack
    warehouse: WarehouseStack
    compute: ComputeStack

    @property
    def stacks(self) -> list[cdk.Stack]:
        return [self.images, self.network, self.data, self.streaming, self.warehouse, self.compute]


def new_app(outdir: Path | str | None = None, context: dict[str, object] | None = None) -> cdk.App:
    return cdk.App(
        outdir=str(outdir) if outdir else None, context={**FEATURE_FLAGS, **(context or {})}
    )


def build(app: cdk.App, env: EnvironmentConfig, *, nag: bool = True) -> Deployment:
    """Add the environment's stacks to `app`; with `nag`, cdk-nag's AWS Solutions checks run at
    synthesis and any unacknowledged finding fails it."""
    # The Availability Zones are configuration, not a lookup: synthesis stays offline and the
    # VPC's subset check sees the same zones the subnets use.
    app.node.set_context(
        f"availability-zones:account={env.account}:region={env.region}", env.availability_zones
    )
    images = ImagesStack(app, "Images", env=env)
    network = NetworkStack(app, "Network", env=env)
    data = DataStack(app, "Data", env=env)
    streaming = StreamingStack(app, "Streaming", env=env, network=network.network)
    warehouse = WarehouseStack(
        app, "Warehouse", env=env, network=network.network, lake_key_arn=data.lake.key.key_arn
    )
    compute = ComputeStack(
        app,
        "Compute",
        env=env,
        network=network.network,
        lake_key_arn=data.lake.key.key_arn,
        images=images.images,
        streaming=streaming.streaming,
        warehouse=warehouse.warehouse,
    )
    # Grants by name (Lake Formation, IAM) need the databases and buckets to exist first.
    compute.add_stack_dependency(data)
    deployment = Deployment(env, images, network, data, streaming, warehouse, compute)
    acknowledge_reviewed_findings(deployment)
    acknowledge_iam_wildcards(deployment.stacks)
    if nag:
        cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    return deployment
