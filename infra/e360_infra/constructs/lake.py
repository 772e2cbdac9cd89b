"""The lake's S3 buckets: raw (as received), master (everything e360 derives) and artefacts
(models, run reports, Spark logs), plus the log bucket they all report their access to."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.region_info import RegionInfo
from constructs import Construct

from e360_infra.config import EnvironmentConfig, Zone
from e360_infra.constructs.common import encryption_key, removal_policy
from e360_infra.e360_settings import LAKE_BUCKETS, ZONE_BUCKET

EMR_LOG_PREFIX = "emr-logs/"
ALB_LOG_PREFIX = "alb"


def bucket_arn(scope: Construct, env: EnvironmentConfig, purpose: str) -> str:
    # Built from the (deterministic) name, not a cross-stack reference: stacks stay decoupled and
    # the ARN reads the same in every template.
    return f"arn:{cdk.Stack.of(scope).partition}:s3:::{env.bucket_name(purpose)}"


def grant_bucket(
    role: iam.IRole,
    env: EnvironmentConfig,
    purpose: str,
    *,
    key_arn: str,
    write: bool,
    prefix: str = "",
) -> None:
    """Least-privilege access to one lake bucket (optionally one prefix) and its key.

    Explicit actions instead of CDK's grant families: reads need GetObject and listing, writes
    add PutObject, DeleteObject and multipart aborts; SSE-KMS needs Decrypt and GenerateDataKey.
    """
    arn = bucket_arn(role, env, purpose)
    objects = f"{arn}/{prefix}*"
    role.add_to_principal_policy(
        iam.PolicyStatement(actions=["s3:GetBucketLocation"], resources=[arn])
    )
    list_statement = iam.PolicyStatement(actions=["s3:ListBucket"], resources=[arn])
    if prefix:
        list_statement.add_condition("StringLike", {"s3:prefix": [f"{prefix}*"]})
    role.add_to_principal_policy(list_statement)
    object_actions = ["s3:GetObject", "s3:GetObjectVersion"]
    key_actions = ["kms:Decrypt"]
    if write:
        object_actions += ["s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
        key_actions += ["kms:GenerateDataKey"]
    role.add_to_principal_policy(iam.PolicyStatement(actions=object_actions, resources=[objects]))
    role.add_to_principal_policy(iam.PolicyStatement(actions=key_actions, resources=[key_arn]))


class Lake(Construct):
    """KMS-encrypted, versioned, TLS-only, private buckets with access logging and lifecycles."""

    def __init__(self, scope: Construct, construct_id: str, *, env: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        config = env.lake
        destroy = not env.retain
        self.key = encryption_key(
            self,
            "Key",
            env=env,
            purpose="lake",
            description=f"{env.prefix}: lake buckets (raw, master, artefacts)",
        )

        # S3 server access logs and ALB access logs can only be delivered to SSE-S3 buckets.
        self.logs_bucket = s3.Bucket(
            self,
            "Logs",
            bucket_name=env.bucket_name("logs"),
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-logs",
                    expiration=cdk.Duration.days(config.log_expiration_days),
                    noncurrent_version_expiration=cdk.Duration.days(7),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                )
            ],
            removal_policy=removal_policy(env),
            auto_delete_objects=destroy,
        )

        # ALB access logs: the regional ELB account (older regions) or the log delivery service.
        elb_account = RegionInfo.get(env.region).elbv2_account
        self.logs_bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="LoadBalancerAccessLogs",
                principals=[
                    iam.AccountPrincipal(elb_account)
                    if elb_account
                    else iam.ServicePrincipal("logdelivery.elasticloadbalancing.amazonaws.com")
                ],
                actions=["s3:PutObject"],
                resources=[
                    self.logs_bucket.arn_for_objects(f"{ALB_LOG_PREFIX}/AWSLogs/{env.account}/*")
                ],
            )
        )

        self.buckets: dict[str, s3.Bucket] = {}
        for purpose in LAKE_BUCKETS:
            rules = [
                s3.LifecycleRule(
                    id="tidy-versions",
                    # Iceberg deletes files when snapshots expire; S3 keeps them as noncurrent
                    # versions for this long (the window to recover from a bad expiry).
                    noncurrent_version_expiration=cdk.Duration.days(
                        config.noncurrent_version_expiration_days
                    ),
                    abort_incomplete_multipart_upload_after=cdk.Duration.days(7),
                ),
                s3.LifecycleRule(id="remove-delete-markers", expired_object_delete_marker=True),
            ]
            if purpose in ("raw", "master") and config.intelligent_tiering_after_days:
                # Never expire current lake objects by age: Iceberg metadata still points at them.
                rules.append(
                    s3.LifecycleRule(
                        id="intelligent-tiering",
                        transitions=[
                            s3.Transition(
                                storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                                transition_after=cdk.Duration.days(
                                    config.intelligent_tiering_after_days
                                ),
                            )
                        ],
                    )
                )
            if purpose == "artefacts":
                rules.append(
                    s3.LifecycleRule(
                        id="expire-spark-logs",
                        prefix=EMR_LOG_PREFIX,
                        expiration=cdk.Duration.days(config.emr_log_expiration_days),
                    )
                )
            self.buckets[purpose] = s3.Bucket(
                self,
                purpose.title(),
                bucket_name=env.bucket_name(purpose),
                encryption=s3.BucketEncryption.KMS,
                encryption_key=self.key,
                bucket_key_enabled=True,
                block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
                object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
                enforce_ssl=True,
                minimum_tls_version=1.2,
                versioned=True,
                server_access_logs_bucket=self.logs_bucket,
                server_access_logs_prefix=f"s3/{purpose}/",
                lifecycle_rules=rules,
                removal_policy=removal_policy(env),
                auto_delete_objects=destroy,
            )

    def zone_bucket(self, zone: Zone) -> s3.Bucket:
        return self.buckets[ZONE_BUCKET[zone]]

    @property
    def raw(self) -> s3.Bucket:
        return self.buckets["raw"]

    @property
    def master(self) -> s3.Bucket:
        return self.buckets["master"]

    @property
    def artefacts(self) -> s3.Bucket:
        return self.buckets["artefacts"]
