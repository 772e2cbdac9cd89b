"""Warehouse stack: Redshift Serverless, private, enhanced VPC routing, KMS, audit logs, the COPY
role and the admin credentials in Secrets Manager."""

from __future__ import annotations

import json

from infra_synth import Synthesized


def test_workgroup_is_private_with_enhanced_vpc_routing(each: Synthesized) -> None:
    workgroup = each.one("Warehouse", "AWS::RedshiftServerless::Workgroup")
    assert workgroup["EnhancedVpcRouting"] is True
    assert workgroup["PubliclyAccessible"] is False
    subnets = [subnet["Fn::ImportValue"] for subnet in workgroup["SubnetIds"]]
    assert len(subnets) == 3 and all("dataSubnet" in subnet for subnet in subnets)
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in workgroup["ConfigParameters"]}
    assert parameters == {"require_ssl": "true", "enable_user_activity_logging": "true"}
    assert workgroup["BaseCapacity"] == each.env.warehouse.base_capacity_rpu


def test_namespace_is_encrypted_audited_and_keeps_no_password(each: Synthesized) -> None:
    namespace = each.one("Warehouse", "AWS::RedshiftServerless::Namespace")
    assert namespace["KmsKeyId"]["Fn::GetAtt"][1] == "Arn"
    assert set(namespace["LogExports"]) == {"userlog", "connectionlog", "useractivitylog"}
    password = json.dumps(namespace["AdminUserPassword"])
    assert "{{resolve:secretsmanager:" in password  # a dynamic reference, resolved at deploy time
    assert namespace["DefaultIamRoleArn"] == namespace["IamRoles"][0]


def test_admin_secret_is_encrypted_and_names_the_endpoint(each: Synthesized) -> None:
    secret = each.one("Warehouse", "AWS::SecretsManager::Secret")
    assert secret["KmsKeyId"]["Fn::GetAtt"][1] == "Arn"
    template = json.loads(secret["GenerateSecretString"]["SecretStringTemplate"])
    env = each.env
    assert template == {
        "engine": "redshift",
        "username": env.warehouse.admin_username,
        "host": f"{env.prefix}.{env.account}.{env.region}.redshift-serverless.amazonaws.com",
        "port": env.warehouse.port,
        "dbname": env.warehouse.database_name,
    }


def test_rotation_follows_the_environment(dev: Synthesized, prod: Synthesized) -> None:
    rotation = prod.one("Warehouse", "AWS::SecretsManager::RotationSchedule")
    assert rotation["HostedRotationLambda"]["RotationType"] == "RedshiftSingleUser"
    assert rotation["RotationRules"] == {"ScheduleExpression": "rate(30 days)"}
    assert not dev.resources("Warehouse", "AWS::SecretsManager::RotationSchedule")


def test_copy_role_reads_the_master_bucket_only(each: Synthesized) -> None:
    role = each.one("Warehouse", "AWS::IAM::Role")
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    services = {service for s in trust for service in _list(s["Principal"]["Service"])}
    assert services == {"redshift.amazonaws.com", "redshift-serverless.amazonaws.com"}
    assert all(
        s["Condition"] == {"StringEquals": {"aws:SourceAccount": each.env.account}} for s in trust
    )
    policy = each.one("Warehouse", "AWS::IAM::Policy")
    actions = {a for s in policy["PolicyDocument"]["Statement"] for a in _list(s["Action"])}
    assert actions == {
        "s3:GetBucketLocation",
        "s3:ListBucket",
        "s3:GetObject",
        "s3:GetObjectVersion",
        "kms:Decrypt",
    }
    text = json.dumps(policy["PolicyDocument"])
    assert each.env.bucket_name("master") in text
    assert each.env.bucket_name("raw") not in text


def test_security_group_admits_the_pipeline_only(each: Synthesized) -> None:
    rules = [
        r["Properties"]
        for r in each.resources("Compute", "AWS::EC2::SecurityGroupIngress").values()
    ]
    to_warehouse = [r for r in rules if "Warehouse" in json.dumps(r["GroupId"])]
    (rule,) = to_warehouse
    assert rule["FromPort"] == each.env.warehouse.port
    assert "DagsterDaemon" in rule["SourceSecurityGroupId"]["Fn::GetAtt"][0]


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else [value]
