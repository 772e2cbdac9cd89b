"""The enterprise layer's warehouse: Redshift Serverless in the isolated subnets, enhanced VPC
routing (COPY traffic stays on the S3 gateway endpoint), a COPY role that can read the master
bucket only, and the admin credentials generated into Secrets Manager.

The admin secret is ours rather than Redshift-managed (`ManageAdminPassword`): CloudFormation
exposes no ARN for the managed secret, and the ECS tasks need one to inject the credentials."""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_redshiftserverless as redshift
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.common import encryption_key, removal_policy
from e360_infra.constructs.lake import grant_bucket
from e360_infra.constructs.network import Network

# Characters Redshift refuses in passwords.
PASSWORD_EXCLUDED = "\"'\\/@ "


class Warehouse(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: EnvironmentConfig,
        network: Network,
        lake_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        config = env.warehouse
        stack = cdk.Stack.of(self)
        self.port = config.port
        self.database_name = config.database_name
        self.key = encryption_key(
            self,
            "Key",
            env=env,
            purpose="warehouse",
            description=f"{env.prefix}: Redshift Serverless data and admin secret",
        )

        # COPY/UNLOAD from the master bucket (the master and conformed zones) and nothing else.
        self.copy_role = iam.Role(
            self,
            "CopyRole",
            role_name=f"{env.prefix}-redshift-copy",
            description="Redshift COPY from the e360 master bucket",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal(
                    "redshift.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                ),
                iam.ServicePrincipal(
                    "redshift-serverless.amazonaws.com",
                    conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
                ),
            ),
        )
        grant_bucket(self.copy_role, env, "master", key_arn=lake_key_arn, write=False)

        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=network.vpc,
            description=f"{env.prefix} Redshift Serverless: e360 services only",
            allow_all_outbound=False,
        )
        # Enhanced VPC routing sends COPY through the VPC. The isolated subnets route nowhere but
        # the S3 gateway endpoint, so HTTPS egress reaches S3 only.
        self.security_group.add_egress_rule(
            ec2.Peer.any_ipv4(),
            ec2.Port.tcp(443),
            "COPY/UNLOAD to S3 through the gateway endpoint",
        )

        self.admin_secret = secretsmanager.Secret(
            self,
            "AdminSecret",
            secret_name=f"{env.prefix}/redshift/admin",
            description=f"{env.prefix} Redshift Serverless admin (dbt's E360_REDSHIFT_USER/PASSWORD)",
            encryption_key=self.key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                # Connection fields too: the hosted rotation function connects with them. The
                # endpoint name of a Serverless workgroup is known before it exists.
                secret_string_template=json.dumps(
                    {
                        "engine": "redshift",
                        "username": config.admin_username,
                        "host": f"{env.prefix}.{env.account}.{env.region}"
                        ".redshift-serverless.amazonaws.com",
                        "port": config.port,
                        "dbname": config.database_name,
                    }
                ),
                generate_string_key="password",
                password_length=32,
                exclude_characters=PASSWORD_EXCLUDED,
            ),
            removal_policy=removal_policy(env),
        )
        self.namespace = redshift.CfnNamespace(
            self,
            "Namespace",
            namespace_name=env.prefix,
            db_name=config.database_name,
            admin_username=config.admin_username,
            # A dynamic reference: CloudFormation resolves it, the template never holds it.
            admin_user_password=self.admin_secret.secret_value_from_json(
                "password"
            ).unsafe_unwrap(),
            kms_key_id=self.key.key_arn,
            iam_roles=[self.copy_role.role_arn],
            default_iam_role_arn=self.copy_role.role_arn,
            log_exports=["userlog", "connectionlog", "useractivitylog"],
        )
        self.namespace.apply_removal_policy(removal_policy(env))
        self.workgroup = redshift.CfnWorkgroup(
            self,
            "Workgroup",
            workgroup_name=env.prefix,
            namespace_name=env.prefix,
            base_capacity=config.base_capacity_rpu,
            max_capacity=config.max_capacity_rpu,
            port=config.port,
            enhanced_vpc_routing=True,
            publicly_accessible=False,
            subnet_ids=network.vpc.select_subnets(
                subnet_group_name=network.data_subnets.subnet_group_name
            ).subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
            config_parameters=[
                redshift.CfnWorkgroup.ConfigParameterProperty(
                    parameter_key="require_ssl", parameter_value="true"
                ),
                redshift.CfnWorkgroup.ConfigParameterProperty(
                    parameter_key="enable_user_activity_logging", parameter_value="true"
                ),
            ],
        )
        self.workgroup.add_resource_dependency(self.namespace)
        self.workgroup.apply_removal_policy(removal_policy(env))

        if config.rotation_days:
            rotation_security_group = ec2.SecurityGroup(
                self,
                "RotationSecurityGroup",
                vpc=network.vpc,
                description=f"{env.prefix} Redshift admin secret rotation function",
                allow_all_outbound=True,
            )
            self.security_group.add_ingress_rule(
                rotation_security_group, ec2.Port.tcp(config.port), "secret rotation"
            )
            self.admin_secret.add_rotation_schedule(
                "Rotation",
                automatically_after=cdk.Duration.days(config.rotation_days),
                hosted_rotation=secretsmanager.HostedRotation.redshift_single_user(
                    function_name=f"{env.prefix}-redshift-rotation",
                    vpc=network.vpc,
                    vpc_subnets=network.app_subnets,
                    security_groups=[rotation_security_group],
                    exclude_characters=PASSWORD_EXCLUDED,
                ),
            )

    @property
    def endpoint_address(self) -> str:
        return self.workgroup.attr_workgroup_endpoint_address

    @property
    def admin_secret_arn(self) -> str:
        """The admin credentials: JSON with `username` and `password`."""
        return self.admin_secret.secret_arn

    def allow_clients(
        self, scope: Construct, construct_id: str, peer: ec2.ISecurityGroup, description: str
    ) -> None:
        """Let a client security group in; the rule lives in the client's stack (`scope`)."""
        ec2.CfnSecurityGroupIngress(
            scope,
            construct_id,
            group_id=self.security_group.security_group_id,
            source_security_group_id=peer.security_group_id,
            ip_protocol="tcp",
            from_port=self.port,
            to_port=self.port,
            description=description,
        )
