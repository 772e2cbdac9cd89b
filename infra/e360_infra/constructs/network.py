"""The VPC every e360 component runs in: public subnets for the load balancer and NAT only,
private subnets for the services and Spark, isolated subnets for the databases and the stream."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from e360_infra.config import EnvironmentConfig, InterfaceEndpoint
from e360_infra.constructs.common import encryption_key, log_group

PUBLIC = "public"
APP = "app"
DATA = "data"

_ENDPOINTS: dict[InterfaceEndpoint, ec2.InterfaceVpcEndpointAwsService] = {
    "glue": ec2.InterfaceVpcEndpointAwsService.GLUE,
    "lakeformation": ec2.InterfaceVpcEndpointAwsService.LAKE_FORMATION,
    "secretsmanager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "ecr": ec2.InterfaceVpcEndpointAwsService.ECR,
    "ecr_docker": ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER,
    "logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "sts": ec2.InterfaceVpcEndpointAwsService.STS,
    "kms": ec2.InterfaceVpcEndpointAwsService.KMS,
    "kafka": ec2.InterfaceVpcEndpointAwsService.KAFKA,
    "emr_serverless": ec2.InterfaceVpcEndpointAwsService.EMR_SERVERLESS,
}


class Network(Construct):
    """VPC, flow logs and VPC endpoints (S3 as a gateway, the configured services as interfaces)."""

    def __init__(self, scope: Construct, construct_id: str, *, env: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id)
        config = env.network
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=env.prefix,
            ip_addresses=ec2.IpAddresses.cidr(config.cidr),
            availability_zones=env.availability_zones,
            nat_gateways=config.nat_gateways,
            restrict_default_security_group=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name=PUBLIC, subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name=APP, subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=20
                ),
                ec2.SubnetConfiguration(
                    name=DATA, subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
        )

        self.key = encryption_key(
            self,
            "LogsKey",
            env=env,
            purpose="network",
            description=f"{env.prefix}: VPC flow logs",
            for_logs=True,
        )
        flow_logs = log_group(
            self,
            "FlowLogs",
            env=env,
            name=f"/{env.prefix}/vpc-flow-logs",
            key=self.key,
            retention_days=config.flow_log_retention_days,
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

        # Lake traffic (and Redshift's COPY under enhanced VPC routing) reaches S3 without NAT.
        self.vpc.add_gateway_endpoint(
            "S3",
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[ec2.SubnetSelection(subnet_group_name=group) for group in (APP, DATA)],
        )
        self.endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        for name in config.interface_endpoints:
            endpoint = self.vpc.add_interface_endpoint(
                name.replace("_", "-").title().replace("-", ""),
                service=_ENDPOINTS[name],
                private_dns_enabled=True,
                subnets=ec2.SubnetSelection(subnet_group_name=APP),
                open=False,
            )
            # HTTPS from inside the VPC only (the configured CIDR, readable by reviewers).
            endpoint.connections.allow_from(
                ec2.Peer.ipv4(config.cidr), ec2.Port.tcp(443), "HTTPS from the VPC"
            )
            self.endpoints[name] = endpoint

    @property
    def app_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=APP)

    @property
    def data_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=DATA)

    @property
    def public_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_group_name=PUBLIC)
