"""Splink on Spark: an EMR Serverless application the pipeline submits resolution jobs to. It
starts on the first job and stops when idle, so it costs nothing between runs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_emrserverless as emr
from aws_cdk import aws_iam as iam
from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.images import EMR_SERVICE
from e360_infra.constructs.lake import EMR_LOG_PREFIX
from e360_infra.constructs.network import Network


class SparkResolution(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: EnvironmentConfig,
        network: Network,
        repository: ecr.IRepository | None,
        lake_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        config = env.compute.spark
        stack = cdk.Stack.of(self)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description=f"{env.prefix} EMR Serverless workers",
            allow_all_outbound=True,
        )
        self.job_role = iam.Role(
            self,
            "JobRole",
            role_name=f"{env.prefix}-spark-job",
            description="Runtime role of the e360 Splink jobs on EMR Serverless",
            assumed_by=iam.ServicePrincipal(
                EMR_SERVICE, conditions={"StringEquals": {"aws:SourceAccount": stack.account}}
            ),
        )

        image = (
            emr.CfnApplication.ImageConfigurationInputProperty(
                image_uri=repository.repository_uri_for_tag(env.compute.image_tag)
            )
            if repository is not None
            else None
        )

        self.application = emr.CfnApplication(
            self,
            "Application",
            name=f"{env.prefix}-splink",
            release_label=config.release_label,
            type="Spark",
            architecture="X86_64",
            auto_start_configuration=emr.CfnApplication.AutoStartConfigurationProperty(
                enabled=True
            ),
            auto_stop_configuration=emr.CfnApplication.AutoStopConfigurationProperty(
                enabled=True, idle_timeout_minutes=config.idle_timeout_minutes
            ),
            maximum_capacity=emr.CfnApplication.MaximumAllowedResourcesProperty(
                cpu=f"{config.max_vcpu} vCPU",
                memory=f"{config.max_memory_gb} GB",
                disk=f"{config.max_disk_gb} GB",
            ),
            network_configuration=emr.CfnApplication.NetworkConfigurationProperty(
                subnet_ids=network.vpc.select_subnets(
                    subnet_group_name=network.app_subnets.subnet_group_name
                ).subnet_ids,
                security_group_ids=[self.security_group.security_group_id],
            ),
            image_configuration=image,
            monitoring_configuration=emr.CfnApplication.MonitoringConfigurationProperty(
                s3_monitoring_configuration=emr.CfnApplication.S3MonitoringConfigurationProperty(
                    log_uri=f"s3://{env.bucket_name('artefacts')}/{EMR_LOG_PREFIX}",
                    encryption_key_arn=lake_key_arn,
                ),
            ),
            runtime_configuration=[
                emr.CfnApplication.ConfigurationObjectProperty(
                    classification="spark-defaults",
                    properties={
                        # Iceberg tables in the Glue Data Catalog, as e360's lake writes them.
                        "spark.sql.extensions": (
                            "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions"
                        ),
                        "spark.hadoop.hive.metastore.client.factory.class": (
                            "com.amazonaws.glue.catalog.metastore.AWSGlueDataCatalogHiveClientFactory"
                        ),
                    },
                )
            ],
        )

    @property
    def application_id(self) -> str:
        return self.application.attr_application_id

    def grant_submit(self, role: iam.IRole) -> None:
        """Start, watch and cancel resolution jobs, running as the job role (and no other)."""
        application = self.application.attr_arn
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["emr-serverless:StartJobRun", "emr-serverless:GetApplication"],
                resources=[application],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "emr-serverless:GetJobRun",
                    "emr-serverless:CancelJobRun",
                    "emr-serverless:GetDashboardForJobRun",
                ],
                resources=[f"{application}/jobruns/*"],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.job_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": EMR_SERVICE}},
            )
        )
