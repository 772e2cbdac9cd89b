"""The reviewed cdk-nag findings of the e360 stacks, each with the reason it is accepted.

Acknowledgements sit on the narrowest construct that explains them, and the environment-specific
ones apply only when the configuration asks for what they accept (dev's single-AZ database, a
secret without rotation), so prod is checked against the full rule set.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from e360_infra.nag import acknowledge

if TYPE_CHECKING:
    from e360_infra.deployment import Deployment

ECS_ENVIRONMENT = (
    "Container environment variables carry configuration names only (bucket, endpoint, "
    "database and topic names, e360.yaml overrides); every credential is injected from "
    "Secrets Manager through `secrets`"
)
RDS_MONITORING = (
    "AmazonRDSEnhancedMonitoringRole is the AWS-maintained policy for RDS Enhanced Monitoring "
    "(CloudWatch Logs writes to RDSOSMetrics only); its role is assumable by "
    "monitoring.rds.amazonaws.com alone"
)


def acknowledge_reviewed_findings(deployment: Deployment) -> None:
    env = deployment.env
    compute = deployment.compute.compute
    for service in (
        deployment.compute.ingestion,
        deployment.compute.steward,
        deployment.compute.webserver,
        deployment.compute.daemon,
    ):
        acknowledge(service.task_definition, "AwsSolutions-ECS2", ECS_ENVIRONMENT)

    monitoring_role = compute.database.node.try_find_child("MonitoringRole")
    if monitoring_role is not None:
        acknowledge(
            monitoring_role,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AmazonRDSEnhancedMonitoringRole]",
            RDS_MONITORING,
        )

    database = env.compute.database
    if not database.multi_az:
        acknowledge(
            compute.database,
            "AwsSolutions-RDS3",
            f"{env.name}: single-AZ to keep the environment cheap; it holds Dagster run history "
            "and steward decisions of a non-production environment (prod is Multi-AZ)",
        )
    if not env.retain:
        acknowledge(
            compute.database,
            "AwsSolutions-RDS10",
            f"{env.name}: the environment is destroyed with its stacks (removal: destroy); "
            "retained environments get deletion protection",
        )
    if database.rotation_days is None:
        acknowledge(
            compute.database.node.find_child("Secret"),
            "AwsSolutions-SMG4",
            f"{env.name}: rotation switched off in the environment file (no rotation function "
            "to run); rotate with `aws secretsmanager rotate-secret` when needed",
        )
    if env.warehouse.rotation_days is None:
        acknowledge(
            deployment.warehouse.warehouse.admin_secret,
            "AwsSolutions-SMG4",
            f"{env.name}: rotation switched off in the environment file (no rotation function "
            "to run); rotate with `aws secretsmanager rotate-secret` when needed",
        )
