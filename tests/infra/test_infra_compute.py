"""Compute stack: the ECS services, their images, roles and secrets, the PostgreSQL database,
EMR Serverless, and the Cognito-authenticated load balancer in front of the web services."""

from __future__ import annotations

import json
from typing import Any

import pytest
from infra_synth import Synthesized

SERVICES = ("ingestion", "steward", "dagster-webserver", "dagster-daemon")


def _by_family(synth: Synthesized) -> dict[str, dict[str, Any]]:
    prefix = f"{synth.env.prefix}-"
    return {
        r["Properties"]["Family"].removeprefix(prefix): r["Properties"]
        for r in synth.resources("Compute", "AWS::ECS::TaskDefinition").values()
    }


def _services(synth: Synthesized) -> dict[str, dict[str, Any]]:
    prefix = f"{synth.env.prefix}-"
    return {
        r["Properties"]["ServiceName"].removeprefix(prefix): r["Properties"]
        for r in synth.resources("Compute", "AWS::ECS::Service").values()
    }


def test_four_fargate_services_in_private_subnets(each: Synthesized) -> None:
    services = _services(each)
    assert sorted(services) == sorted(SERVICES)
    for service in services.values():
        assert service["LaunchType"] == "FARGATE"
        network = service["NetworkConfiguration"]["AwsvpcConfiguration"]
        assert network["AssignPublicIp"] == "DISABLED"
        assert all("appSubnet" in s["Fn::ImportValue"] for s in network["Subnets"])
        assert service["EnableExecuteCommand"] is False
        assert service["DeploymentConfiguration"]["DeploymentCircuitBreaker"] == {
            "Enable": True,
            "Rollback": True,
        }


def test_dagster_daemon_never_runs_twice(each: Synthesized) -> None:
    daemon = _services(each)["dagster-daemon"]["DeploymentConfiguration"]
    assert (daemon["MinimumHealthyPercent"], daemon["MaximumPercent"]) == (0, 100)


@pytest.mark.parametrize("name", SERVICES)
def test_task_runs_the_pinned_e360_image_read_only(each: Synthesized, name: str) -> None:
    task = _by_family(each)[name]
    (container,) = task["ContainerDefinitions"]
    image = json.dumps(container["Image"])
    assert f":{each.env.compute.image_tag}" in image and "ImagesService" in image
    assert container["ReadonlyRootFilesystem"] is True
    assert container["LogConfiguration"]["LogDriver"] == "awslogs"
    mounts = {m["ContainerPath"] for m in container["MountPoints"]}
    assert mounts == {each.env.compute.scratch_path, "/tmp"}
    assert container["Command"] == getattr(each.env.compute, name.replace("-", "_")).command
    # Credentials arrive as secrets, never as plain environment values.
    for variable in container.get("Environment", []):
        assert not any(word in variable["Name"] for word in ("PASSWORD", "SECRET", "USER"))
    for secret in container.get("Secrets", []):
        reference, field = secret["ValueFrom"]["Fn::Join"][1]
        assert field in (":username::", ":password::")
        assert "Secret" in json.dumps(reference)
    assert task["TaskRoleArn"]["Fn::GetAtt"][0] != task["ExecutionRoleArn"]["Fn::GetAtt"][0]


def test_each_service_has_its_own_task_role(each: Synthesized) -> None:
    roles = {task["TaskRoleArn"]["Fn::GetAtt"][0] for task in _by_family(each).values()}
    assert len(roles) == len(SERVICES)


def test_webserver_task_role_has_no_data_access(each: Synthesized) -> None:
    task = _by_family(each)["dagster-webserver"]
    role = task["TaskRoleArn"]["Fn::GetAtt"][0]
    for policy in each.resources("Compute", "AWS::IAM::Policy").values():
        assert {"Ref": role} not in policy["Properties"]["Roles"]


def test_database_is_private_encrypted_and_tls_only(each: Synthesized) -> None:
    database = each.one("Compute", "AWS::RDS::DBInstance")
    config = each.env.compute.database
    assert database["StorageEncrypted"] is True
    assert database["KmsKeyId"]["Fn::GetAtt"][1] == "Arn"
    assert database["PubliclyAccessible"] is False
    assert database["MultiAZ"] is config.multi_az
    assert database["DeletionProtection"] is each.env.retain
    assert database["EnableIAMDatabaseAuthentication"] is True
    assert database["Port"] == str(config.port)
    assert "{{resolve:secretsmanager:" in json.dumps(database["MasterUserPassword"])
    subnet_group = each.one("Compute", "AWS::RDS::DBSubnetGroup")
    assert all("dataSubnet" in s["Fn::ImportValue"] for s in subnet_group["SubnetIds"])
    parameters = each.one("Compute", "AWS::RDS::DBParameterGroup")["Parameters"]
    assert parameters["rds.force_ssl"] == "1"


def test_database_admits_the_services_that_use_it(each: Synthesized) -> None:
    rules = [
        r["Properties"]
        for r in each.resources("Compute", "AWS::EC2::SecurityGroupIngress").values()
    ]
    sources = sorted(
        r["SourceSecurityGroupId"]["Fn::GetAtt"][0]
        for r in rules
        if "DatabaseSecurityGroup" in json.dumps(r["GroupId"])
    )
    expected = ["DagsterDaemon", "DagsterWebserver", "Steward"]
    if each.env.compute.database.rotation_days:
        expected.append("RotationSingleUser")
    assert len(sources) == len(expected)
    for name in expected:
        assert any(name in source for source in sources), (name, sources)


def test_database_rotation_and_removal_follow_the_environment(
    dev: Synthesized, prod: Synthesized
) -> None:
    assert prod.resources("Compute", "AWS::SecretsManager::RotationSchedule")
    assert not dev.resources("Compute", "AWS::SecretsManager::RotationSchedule")
    (prod_database,) = prod.resources("Compute", "AWS::RDS::DBInstance").values()
    (dev_database,) = dev.resources("Compute", "AWS::RDS::DBInstance").values()
    assert prod_database["DeletionPolicy"] == "Snapshot"
    assert dev_database["DeletionPolicy"] == "Delete"


def test_spark_application_starts_on_demand_in_private_subnets(each: Synthesized) -> None:
    application = each.one("Compute", "AWS::EMRServerless::Application")
    spark = each.env.compute.spark
    assert application["Type"] == "Spark"
    assert application["ReleaseLabel"] == spark.release_label
    assert application["AutoStartConfiguration"] == {"Enabled": True}
    assert application["AutoStopConfiguration"] == {
        "Enabled": True,
        "IdleTimeoutMinutes": spark.idle_timeout_minutes,
    }
    assert application["MaximumCapacity"]["Cpu"] == f"{spark.max_vcpu} vCPU"
    subnets = application["NetworkConfiguration"]["SubnetIds"]
    assert all("appSubnet" in s["Fn::ImportValue"] for s in subnets)
    logs = application["MonitoringConfiguration"]["S3MonitoringConfiguration"]
    assert logs["LogUri"] == f"s3://{each.env.bucket_name('artefacts')}/emr-logs/"
    assert "LakeKey" in json.dumps(logs["EncryptionKeyArn"])


def test_pipeline_may_pass_only_the_spark_job_role(each: Synthesized) -> None:
    passes = [
        statement
        for policy in each.resources("Compute", "AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        if "iam:PassRole" in json.dumps(statement["Action"])
    ]
    assert len(passes) == 1
    (statement,) = passes
    assert statement["Resource"]["Fn::GetAtt"][0].startswith("SparkJobRole")
    assert statement["Condition"] == {
        "StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}
    }


def test_load_balancer_is_https_only_from_allowed_ranges(each: Synthesized) -> None:
    load_balancer = each.one("Compute", "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in load_balancer["LoadBalancerAttributes"]}
    assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == each.env.bucket_name("logs")
    listeners = each.resources("Compute", "AWS::ElasticLoadBalancingV2::Listener")
    assert [item["Properties"]["Protocol"] for item in listeners.values()] == ["HTTPS"]
    (listener,) = listeners.values()
    assert listener["Properties"]["SslPolicy"].startswith("ELBSecurityPolicy-TLS13")
    group = next(
        g["Properties"]
        for logical_id, g in each.resources("Compute", "AWS::EC2::SecurityGroup").items()
        if logical_id.startswith("AccessSecurityGroup")
    )
    ingress = group["SecurityGroupIngress"]
    assert sorted(r["CidrIp"] for r in ingress) == sorted(each.env.access.allowed_cidrs)
    assert {(r["FromPort"], r["ToPort"]) for r in ingress} == {(443, 443)}


def test_every_route_authenticates_with_cognito_first(each: Synthesized) -> None:
    rules = [
        r["Properties"]
        for r in each.resources("Compute", "AWS::ElasticLoadBalancingV2::ListenerRule").values()
    ]
    assert len(rules) == 2
    for rule in rules:
        actions = sorted(rule["Actions"], key=lambda action: action["Order"])
        assert [a["Type"] for a in actions] == ["authenticate-cognito", "forward"]
    (listener,) = each.resources("Compute", "AWS::ElasticLoadBalancingV2::Listener").values()
    # Anything no rule matches gets a 404, never an unauthenticated forward.
    assert [a["Type"] for a in listener["Properties"]["DefaultActions"]] == ["fixed-response"]
    paths = {str(r["Conditions"][0]["PathPatternConfig"]["Values"]): r["Priority"] for r in rules}
    assert paths == {"['/dagster', '/dagster/*']": 10, "['/*']": 20}


def test_cognito_requires_mfa_and_strong_passwords(each: Synthesized) -> None:
    pool = each.one("Compute", "AWS::Cognito::UserPool")
    assert pool["MfaConfiguration"] == "ON"
    assert pool["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 14
    assert pool["UserPoolTier"] == "PLUS"
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    client = each.one("Compute", "AWS::Cognito::UserPoolClient")
    assert client["GenerateSecret"] is True
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["CallbackURLs"] == [f"https://{each.env.access.domain_name}/oauth2/idpresponse"]


def test_waf_guards_the_load_balancer(each: Synthesized) -> None:
    acl = each.one("Compute", "AWS::WAFv2::WebACL")
    assert acl["Scope"] == "REGIONAL"
    groups = {r["Statement"]["ManagedRuleGroupStatement"]["Name"] for r in acl["Rules"]}
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= groups
    association = each.one("Compute", "AWS::WAFv2::WebACLAssociation")
    assert association["ResourceArn"]["Ref"].startswith("AccessLoadBalancer")


def test_cluster_has_container_insights(each: Synthesized) -> None:
    cluster = each.one("Compute", "AWS::ECS::Cluster")
    assert cluster["ClusterSettings"] == [{"Name": "containerInsights", "Value": "enhanced"}]
