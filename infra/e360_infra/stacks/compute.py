from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from e360_infra.config import ZONES, EnvironmentConfig, Zone
from e360_infra.constructs.access import StewardAccess
from e360_infra.constructs.catalog import grant_glue, grant_zones
from e360_infra.constructs.compute import Compute
from e360_infra.constructs.images import ImageRepositories
from e360_infra.constructs.lake import EMR_LOG_PREFIX, grant_bucket
from e360_infra.constructs.network import Network
from e360_infra.constructs.spark import SparkResolution
from e360_infra.constructs.streaming import Streaming
from e360_infra.constructs.warehouse import Warehouse
from e360_infra.e360_settings import E360_ENV, deployment_variables
from e360_infra.stacks.base import E360Stack

INGESTED: tuple[Zone, ...] = ("raw", "quarantine")
DERIVED: tuple[Zone, ...] = ("standardized", "master", "conformed")


class ComputeStack(E360Stack):
    """The e360 services on ECS Fargate, their database, Spark for resolution, and the steward
    app's authenticated entry. Each service has its own task role with only what it uses."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: EnvironmentConfig,
        network: Network,
        lake_key_arn: str,
        images: ImageRepositories,
        streaming: Streaming,
        warehouse: Warehouse,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="ECS services, PostgreSQL, EMR Serverless, ALB with Cognito",
        )
        config = env.compute
        self.compute = Compute(self, "Compute", env=env, network=network, repository=images.service)
        self.spark = SparkResolution(
            self,
            "Spark",
            env=env,
            network=network,
            repository=images.spark,
            lake_key_arn=lake_key_arn,
        )
        self.access = StewardAccess(self, "Access", env=env, network=network)
        common = {
            "E360_ENV": E360_ENV,
            "E360_CONFIG": config.e360_config_path,
            # Run folders and models go to the task's scratch volume, not the read-only image.
            "E360__PROJECT__ROOT": config.scratch_path,
            "AWS_REGION": env.region,
            **deployment_variables(env),
        }
        dagster_database = self.compute.database_variables("DAGSTER_PG")
        dagster_secrets = self.compute.database_secrets(
            "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD"
        )

        # Ingestion consumers: MSK topics -> raw and quarantine.
        self.ingestion_role = self.compute.task_role(
            "IngestionRole", "ingestion", "e360 ingestion consumers: topics to raw and quarantine"
        )
        self._lake_access(
            self.ingestion_role, "IngestionGrants", INGESTED, write=True, lake_key_arn=lake_key_arn
        )
        streaming.grant_consume(self.ingestion_role)
        self.ingestion = self.compute.add_service(
            "Ingestion",
            name="ingestion",
            config=config.ingestion,
            role=self.ingestion_role,
            environment={
                **common,
                "E360_KAFKA_CLUSTER_ARN": streaming.cluster_arn,
                "E360_KAFKA_CONSUMER_GROUP": env.streaming.consumer_group,
                "E360_KAFKA_TOPICS": ",".join(topic.name for topic in env.streaming.topics),
            },
            secrets={},
        )
        streaming.allow_clients(
            self, "IngestionToStream", self._security_group(self.ingestion), "e360 ingestion"
        )

        # Steward app: reads the review queue and masters, keeps decisions in PostgreSQL.
        self.steward_role = self.compute.task_role(
            "StewardRole", "steward", "e360 steward app: read masters and review queues"
        )
        self._lake_access(
            self.steward_role,
            "StewardGrants",
            ("standardized", "master"),
            write=False,
            lake_key_arn=lake_key_arn,
        )
        self.steward = self.compute.add_service(
            "Steward",
            name="steward",
            config=config.steward,
            role=self.steward_role,
            environment={**common, **self.compute.database_variables("E360_STEWARD_PG")},
            secrets=self.compute.database_secrets(
                "E360_STEWARD_PG_USER", "E360_STEWARD_PG_PASSWORD"
            ),
            port=config.steward.port,
        )
        self.compute.allow_database(self.steward, "steward app")

        # Dagster webserver: the UI only; runs are queued and launched by the daemon.
        self.webserver_role = self.compute.task_role(
            "DagsterWebserverRole", "dagster-webserver", "Dagster UI: no data access"
        )
        self.webserver = self.compute.add_service(
            "DagsterWebserver",
            name="dagster-webserver",
            config=config.dagster_webserver,
            role=self.webserver_role,
            environment={**common, **dagster_database},
            secrets=dagster_secrets,
            port=config.dagster_webserver.port,
        )
        self.compute.allow_database(self.webserver, "Dagster webserver")

        # Dagster daemon: schedules, sensors and the runs themselves, as the platform role.
        self.platform_role = self.compute.task_role(
            "PlatformRole",
            "platform",
            "e360 pipeline (Dagster daemon): every zone, Spark, Redshift",
        )
        self._lake_access(
            self.platform_role, "PlatformGrants", ZONES, write=True, lake_key_arn=lake_key_arn
        )
        grant_bucket(self.platform_role, env, "artefacts", key_arn=lake_key_arn, write=True)
        self.spark.grant_submit(self.platform_role)
        streaming.grant_manage_topics(self.platform_role)
        # Imported by ARN: granting through the warehouse stack's secret object would put this
        # stack's roles into that stack's key policy and make the stacks depend on each other.
        redshift_secret = secretsmanager.Secret.from_secret_complete_arn(
            self, "RedshiftAdminSecret", warehouse.admin_secret_arn
        )
        self.daemon = self.compute.add_service(
            "DagsterDaemon",
            name="dagster-daemon",
            config=config.dagster_daemon,
            role=self.platform_role,
            environment={
                **common,
                **dagster_database,
                "E360_REDSHIFT_HOST": warehouse.endpoint_address,
                "E360_REDSHIFT_PORT": str(warehouse.port),
                "E360_REDSHIFT_DBNAME": warehouse.database_name,
                "E360_EMR_APPLICATION_ID": self.spark.application_id,
                "E360_EMR_JOB_ROLE_ARN": self.spark.job_role.role_arn,
                "E360_EMR_LOG_URI": f"s3://{env.bucket_name('artefacts')}/{EMR_LOG_PREFIX}",
                "E360_ARTEFACTS_URI": f"s3://{env.bucket_name('artefacts')}/",
            },
            secrets={
                **dagster_secrets,
                "E360_REDSHIFT_USER": ecs.Secret.from_secrets_manager(redshift_secret, "username"),
                "E360_REDSHIFT_PASSWORD": ecs.Secret.from_secrets_manager(
                    redshift_secret, "password"
                ),
            },
            singleton=True,
        )
        self.daemon.task_definition.obtain_execution_role().add_to_principal_policy(
            iam.PolicyStatement(
                actions=["kms:Decrypt"],
                resources=[warehouse.key.key_arn],
                conditions={
                    "StringEquals": {"kms:ViaService": f"secretsmanager.{env.region}.amazonaws.com"}
                },
            )
        )
        self.compute.allow_database(self.daemon, "Dagster daemon")
        warehouse.allow_clients(
            self, "PipelineToWarehouse", self._security_group(self.daemon), "e360 pipeline (dbt)"
        )

        # Spark jobs: read the raw zone, write the derived zones and their artefacts.
        job_role = self.spark.job_role
        grant_bucket(job_role, env, "raw", key_arn=lake_key_arn, write=False)
        grant_bucket(job_role, env, "master", key_arn=lake_key_arn, write=True)
        grant_bucket(job_role, env, "artefacts", key_arn=lake_key_arn, write=True)
        grant_glue(job_role, INGESTED, write=False)
        grant_glue(job_role, DERIVED, write=True)
        grant_zones(self, "SparkReadGrants", env=env, role=job_role, zones=INGESTED, write=False)
        grant_zones(self, "SparkWriteGrants", env=env, role=job_role, zones=DERIVED, write=True)

        # The web services behind the load balancer, after Cognito sign-in.
        self.access.expose(
            "Dagster",
            self.webserver,
            port=config.dagster_webserver.port,
            health_check_path=config.dagster_webserver.health_check_path,
            priority=10,
            path_patterns=["/dagster", "/dagster/*"],
        )
        self.access.expose(
            "Steward",
            self.steward,
            port=config.steward.port,
            health_check_path=config.steward.health_check_path,
            priority=20,
        )

        self.output("Url", self.access.url, "the steward app (Dagster under /dagster)")
        self.output(
            "LoadBalancerDns",
            self.access.load_balancer.load_balancer_dns_name,
            f"point {env.access.domain_name} at this name (CNAME or alias)",
        )
        self.output("UserPoolId", self.access.user_pool.user_pool_id, "invite stewards here")
        self.output("SparkApplicationId", self.spark.application_id, "EMR Serverless app")

    def _lake_access(
        self,
        role: iam.IRole,
        construct_id: str,
        zones: tuple[Zone, ...],
        *,
        write: bool,
        lake_key_arn: str,
    ) -> None:
        env = self.config
        for purpose in sorted({"raw" if zone in INGESTED else "master" for zone in zones}):
            grant_bucket(role, env, purpose, key_arn=lake_key_arn, write=write)
        grant_glue(role, zones, write=write)
        grant_zones(self, construct_id, env=env, role=role, zones=zones, write=write)

    @staticmethod
    def _security_group(service: ecs.FargateService) -> ec2.ISecurityGroup:
        return service.connections.security_groups[0]
