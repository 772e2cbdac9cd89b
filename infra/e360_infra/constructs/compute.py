"""Where e360's own code runs: an ECS Fargate cluster for the long-running services (ingestion
consumers, steward app, Dagster webserver and daemon) and the PostgreSQL database holding
Dagster's run storage and the steward store."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from constructs import Construct

from e360_infra.config import EnvironmentConfig, ServiceConfig
from e360_infra.constructs.common import encryption_key, log_group
from e360_infra.constructs.network import Network

DATABASE_ADMIN = "e360_admin"


class Compute(Construct):
    """ECS cluster, service log group and the PostgreSQL database."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: EnvironmentConfig,
        network: Network,
        repository: ecr.IRepository,
    ) -> None:
        super().__init__(scope, construct_id)
        self.env = env
        self.repository = repository
        self.network = network
        config = env.compute
        self.key = encryption_key(
            self,
            "Key",
            env=env,
            purpose="compute",
            description=f"{env.prefix}: service logs, database and its secret",
            for_logs=True,
        )
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=env.prefix,
            vpc=network.vpc,
            container_insights_v2=ecs.ContainerInsights.ENHANCED,
        )
        self.log_group = log_group(
            self,
            "ServiceLogs",
            env=env,
            name=f"/{env.prefix}/services",
            key=self.key,
            retention_days=config.log_retention_days,
        )
        self._database(env, network)

    # -- the database: Dagster run storage and the steward store --------------------------------

    def _database(self, env: EnvironmentConfig, network: Network) -> None:
        config = env.compute.database
        major = config.engine_version.split(".")[0]
        engine = rds.DatabaseInstanceEngine.postgres(
            version=rds.PostgresEngineVersion.of(config.engine_version, major)
        )
        self.database_security_group = ec2.SecurityGroup(
            self,
            "DatabaseSecurityGroup",
            vpc=network.vpc,
            description=f"{env.prefix} PostgreSQL: Dagster and the steward app only",
            allow_all_outbound=False,
        )
        identifier = f"{env.prefix}-postgres"
        # Created up front so they get a retention and the key; RDS writes into them.
        database_logs = [
            log_group(
                self,
                f"Database{kind.title()}Logs",
                env=env,
                name=f"/aws/rds/instance/{identifier}/{kind}",
                key=self.key,
                retention_days=env.compute.log_retention_days,
            )
            for kind in ("postgresql", "upgrade")
        ]
        self.database = rds.DatabaseInstance(
            self,
            "Database",
            instance_identifier=identifier,
            engine=engine,
            instance_type=ec2.InstanceType(config.instance_type),
            vpc=network.vpc,
            vpc_subnets=network.data_subnets,
            security_groups=[self.database_security_group],
            port=config.port,
            database_name=config.database_name,
            credentials=rds.Credentials.from_generated_secret(
                DATABASE_ADMIN,
                encryption_key=self.key,
                secret_name=f"{env.prefix}/postgres/admin",
            ),
            parameter_group=rds.ParameterGroup(
                self,
                "DatabaseParameters",
                engine=engine,
                description=f"{env.prefix} PostgreSQL: TLS only, connection logging",
                parameters={
                    "rds.force_ssl": "1",
                    "log_connections": "1",
                    "log_disconnections": "1",
                },
            ),
            storage_encrypted=True,
            storage_encryption_key=self.key,
            allocated_storage=config.allocated_storage_gib,
            max_allocated_storage=config.max_allocated_storage_gib,
            storage_type=rds.StorageType.GP3,
            multi_az=config.multi_az,
            backup_retention=cdk.Duration.days(config.backup_retention_days),
            copy_tags_to_snapshot=True,
            deletion_protection=env.retain,
            removal_policy=cdk.RemovalPolicy.SNAPSHOT if env.retain else cdk.RemovalPolicy.DESTROY,
            iam_authentication=True,
            cloudwatch_logs_exports=["postgresql", "upgrade"],
            enable_performance_insights=config.performance_insights,
            performance_insight_encryption_key=self.key if config.performance_insights else None,
            monitoring_interval=cdk.Duration.seconds(60),
            auto_minor_version_upgrade=True,
            publicly_accessible=False,
        )
        for group in database_logs:
            self.database.node.add_dependency(group)
        if self.database.secret is None:
            raise RuntimeError("the database secret was not generated")
        self.database_secret = self.database.secret
        if config.rotation_days:
            # Rotation runs in the app subnets (Secrets Manager through NAT or the endpoint).
            self.database.add_rotation_single_user(
                automatically_after=cdk.Duration.days(config.rotation_days),
                vpc_subnets=network.app_subnets,
            )

    # -- services ------------------------------------------------------------------------------

    def task_role(self, construct_id: str, name: str, description: str) -> iam.Role:
        return iam.Role(
            self,
            construct_id,
            role_name=f"{self.env.prefix}-{name}",
            description=description,
            assumed_by=iam.ServicePrincipal(
                "ecs-tasks.amazonaws.com",
                conditions={
                    "StringEquals": {"aws:SourceAccount": cdk.Stack.of(self).account},
                },
            ),
        )

    def add_service(
        self,
        construct_id: str,
        *,
        name: str,
        config: ServiceConfig,
        role: iam.IRole,
        environment: dict[str, str],
        secrets: dict[str, ecs.Secret],
        port: int | None = None,
        singleton: bool = False,
    ) -> ecs.FargateService:
        """A Fargate service running the e360 image with a read-only root filesystem; writable
        scratch space is an ephemeral task volume."""
        env = self.env
        task = ecs.FargateTaskDefinition(
            self,
            f"{construct_id}Task",
            family=f"{env.prefix}-{name}",
            cpu=config.cpu,
            memory_limit_mib=config.memory_mib,
            task_role=role,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.X86_64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        task.add_volume(name="scratch")
        task.add_volume(name="tmp")
        container = task.add_container(
            "App",
            container_name=name,
            image=ecs.ContainerImage.from_ecr_repository(self.repository, env.compute.image_tag),
            command=config.command,
            environment=environment,
            secrets=secrets,
            readonly_root_filesystem=True,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=name,
                log_group=self.log_group,
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
            ),
            port_mappings=[ecs.PortMapping(container_port=port)] if port else None,
        )
        container.add_mount_points(
            ecs.MountPoint(
                container_path=env.compute.scratch_path, source_volume="scratch", read_only=False
            ),
            ecs.MountPoint(container_path="/tmp", source_volume="tmp", read_only=False),
        )
        security_group = ec2.SecurityGroup(
            self,
            f"{construct_id}SecurityGroup",
            vpc=self.network.vpc,
            description=f"{env.prefix} {name} tasks",
            allow_all_outbound=True,
        )
        return ecs.FargateService(
            self,
            f"{construct_id}Service",
            service_name=f"{env.prefix}-{name}",
            cluster=self.cluster,
            task_definition=task,
            desired_count=config.desired_count,
            security_groups=[security_group],
            vpc_subnets=self.network.app_subnets,
            assign_public_ip=False,
            enable_execute_command=False,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            # A singleton (the Dagster daemon) must never run twice, even during a deployment.
            min_healthy_percent=0 if singleton else 100,
            max_healthy_percent=100 if singleton else 200,
            propagate_tags=ecs.PropagatedTagSource.SERVICE,
        )

    def allow_database(self, service: ecs.FargateService, description: str) -> None:
        self.database_security_group.add_ingress_rule(
            service.connections.security_groups[0],
            ec2.Port.tcp(self.env.compute.database.port),
            description,
        )

    def database_variables(self, prefix: str) -> dict[str, str]:
        return {
            f"{prefix}_HOST": self.database.db_instance_endpoint_address,
            f"{prefix}_PORT": str(self.env.compute.database.port),
            f"{prefix}_DB": self.env.compute.database.database_name,
        }

    def database_secrets(self, user_key: str, password_key: str) -> dict[str, ecs.Secret]:
        return {
            user_key: ecs.Secret.from_secrets_manager(self.database_secret, "username"),
            password_key: ecs.Secret.from_secrets_manager(self.database_secret, "password"),
        }
