"""The container image repositories: the e360 image every service runs and the Spark image EMR
Serverless runs. They live in their own stack, deployed first, so the images can be pushed
before any service or job needs them."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.common import encryption_key, removal_policy

EMR_SERVICE = "emr-serverless.amazonaws.com"


def new_repository(
    scope: Construct, construct_id: str, *, env: EnvironmentConfig, name: str, key: kms.IKey
) -> ecr.Repository:
    """An image repository: immutable tags (a deployment names exactly what runs), scanned on
    push, KMS-encrypted, the last 30 images kept."""
    return ecr.Repository(
        scope,
        construct_id,
        repository_name=name,
        image_tag_mutability=ecr.TagMutability.IMMUTABLE,
        image_scan_on_push=True,
        encryption=ecr.RepositoryEncryption.KMS,
        encryption_key=key,
        lifecycle_rules=[ecr.LifecycleRule(max_image_count=30)],
        removal_policy=removal_policy(env),
        empty_on_delete=not env.retain,
    )


class ImageRepositories(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, env: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.key = encryption_key(
            self, "Key", env=env, purpose="images", description=f"{env.prefix}: container images"
        )
        self.service = new_repository(self, "Service", env=env, name=env.prefix, key=self.key)
        self.spark: ecr.Repository | None = None
        if env.compute.spark.custom_image:
            # EMR's Spark image plus Splink and e360, built from the same release as the services.
            self.spark = new_repository(
                self, "Spark", env=env, name=f"{env.prefix}-spark", key=self.key
            )
            self.spark.add_to_resource_policy(
                iam.PolicyStatement(
                    sid="EmrServerlessPull",
                    principals=[iam.ServicePrincipal(EMR_SERVICE)],
                    actions=[
                        "ecr:BatchGetImage",
                        "ecr:DescribeImages",
                        "ecr:GetDownloadUrlForLayer",
                    ],
                    conditions={
                        "StringEquals": {"aws:SourceAccount": stack.account},
                        "ArnLike": {
                            "aws:SourceArn": stack.format_arn(
                                service="emr-serverless",
                                resource="/applications",
                                resource_name="*",
                            )
                        },
                    },
                )
            )
