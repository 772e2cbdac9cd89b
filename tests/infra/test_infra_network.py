"""Network stack: three subnet tiers over three AZs, flow logs, S3 and Glue endpoints."""

from __future__ import annotations

from aws_cdk import assertions
from infra_synth import Synthesized


def test_three_tiers_over_three_azs(each: Synthesized) -> None:
    template = each.template("Network")
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.resource_count_is("AWS::EC2::Subnet", 9)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": each.env.network.cidr})
    subnets = each.resources("Network", "AWS::EC2::Subnet")
    public = [s for s in subnets.values() if s["Properties"]["MapPublicIpOnLaunch"]]
    assert len(public) == 3
    assert all("publicSubnet" in logical_id for logical_id, s in subnets.items() if s in public)
    zones = {s["Properties"]["AvailabilityZone"] for s in subnets.values()}
    assert zones == set(each.env.availability_zones)


def test_nat_gateways_follow_the_environment(each: Synthesized) -> None:
    each.template("Network").resource_count_is(
        "AWS::EC2::NatGateway", each.env.network.nat_gateways
    )


def test_isolated_subnets_route_nowhere_but_s3(each: Synthesized) -> None:
    """The data tier (databases, Redshift, MSK) has no default route at all."""
    routes = each.resources("Network", "AWS::EC2::Route")
    for route in routes.values():
        table = route["Properties"]["RouteTableId"]["Ref"]
        assert "dataSubnet" not in table, f"isolated subnet route {route}"


def test_flow_logs_capture_everything_into_an_encrypted_group(each: Synthesized) -> None:
    template = each.template("Network")
    template.has_resource_properties(
        "AWS::EC2::FlowLog",
        {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"},
    )
    template.has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "KmsKeyId": assertions.Match.any_value(),
            "RetentionInDays": each.env.network.flow_log_retention_days,
        },
    )
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})


def test_s3_gateway_and_glue_interface_endpoints(each: Synthesized) -> None:
    endpoints = [
        e["Properties"] for e in each.resources("Network", "AWS::EC2::VPCEndpoint").values()
    ]
    services = {
        (e.get("VpcEndpointType", "Interface"), _service(e["ServiceName"])) for e in endpoints
    }
    assert ("Gateway", "s3") in services
    assert ("Interface", "glue") in services
    assert len(endpoints) == 1 + len(each.env.network.interface_endpoints)
    for endpoint in endpoints:
        if endpoint.get("VpcEndpointType") != "Gateway":
            assert endpoint["PrivateDnsEnabled"] is True
    gateway = next(e for e in endpoints if e.get("VpcEndpointType") == "Gateway")
    tables = [table["Ref"] for table in gateway["RouteTableIds"]]
    assert sum("dataSubnet" in t for t in tables) == 3  # Redshift's COPY path
    assert sum("appSubnet" in t for t in tables) == 3


def test_endpoint_security_groups_admit_the_vpc_only(each: Synthesized) -> None:
    for group in each.resources("Network", "AWS::EC2::SecurityGroup").values():
        for rule in group["Properties"].get("SecurityGroupIngress", []):
            assert rule["CidrIp"] == each.env.network.cidr
            assert (rule["FromPort"], rule["ToPort"]) == (443, 443)


def _service(name: object) -> str:
    if isinstance(name, str):
        return name.split(".", 3)[-1]
    # Gateway endpoints name the service with a join over the region.
    parts = name["Fn::Join"][1]  # type: ignore[index]
    return str(parts[-1]).lstrip(".")
