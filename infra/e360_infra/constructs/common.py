"""Small building blocks every component uses the same way: keys, log groups, removal."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from e360_infra.config import EnvironmentConfig

_RETENTION: dict[int, logs.RetentionDays] = {
    1: logs.RetentionDays.ONE_DAY,
    3: logs.RetentionDays.THREE_DAYS,
    5: logs.RetentionDays.FIVE_DAYS,
    7: logs.RetentionDays.ONE_WEEK,
    14: logs.RetentionDays.TWO_WEEKS,
    30: logs.RetentionDays.ONE_MONTH,
    60: logs.RetentionDays.TWO_MONTHS,
    90: logs.RetentionDays.THREE_MONTHS,
    120: logs.RetentionDays.FOUR_MONTHS,
    150: logs.RetentionDays.FIVE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    400: logs.RetentionDays.THIRTEEN_MONTHS,
    545: logs.RetentionDays.EIGHTEEN_MONTHS,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2192: logs.RetentionDays.SIX_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    2922: logs.RetentionDays.EIGHT_YEARS,
    3288: logs.RetentionDays.NINE_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


def removal_policy(env: EnvironmentConfig) -> cdk.RemovalPolicy:
    """Prod keeps its data when a stack is deleted; dev cleans up after itself."""
    return cdk.RemovalPolicy.RETAIN if env.retain else cdk.RemovalPolicy.DESTROY


def encryption_key(
    scope: Construct,
    construct_id: str,
    *,
    env: EnvironmentConfig,
    purpose: str,
    description: str,
    for_logs: bool = False,
) -> kms.Key:
    """A customer-managed key with yearly rotation, one per concern so access stays separable."""
    key = kms.Key(
        scope,
        construct_id,
        alias=f"alias/{env.prefix}-{purpose}",
        description=description,
        enable_key_rotation=True,
        removal_policy=removal_policy(env),
        pending_window=cdk.Duration.days(30 if env.retain else 7),
    )
    if for_logs:
        # CloudWatch Logs encrypts with the key on behalf of the log groups of this account only.
        stack = cdk.Stack.of(scope)
        key.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchLogsOfThisAccount",
                principals=[iam.ServicePrincipal(f"logs.{stack.region}.amazonaws.com")],
                actions=[
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncryptFrom",
                    "kms:ReEncryptTo",
                    "kms:GenerateDataKey",
                    "kms:DescribeKey",
                ],
                resources=["*"],
                conditions={
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": stack.format_arn(
                            service="logs",
                            resource="log-group",
                            resource_name="*",
                            arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                        )
                    }
                },
            )
        )
    return key


def log_group(
    scope: Construct,
    construct_id: str,
    *,
    env: EnvironmentConfig,
    name: str,
    key: kms.IKey,
    retention_days: int,
) -> logs.LogGroup:
    return logs.LogGroup(
        scope,
        construct_id,
        log_group_name=name,
        encryption_key=key,
        retention=_RETENTION[retention_days],
        removal_policy=removal_policy(env),
    )
