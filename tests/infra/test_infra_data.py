"""Data stack: lake buckets (encryption, versioning, TLS only, public access blocked, access
logging, lifecycles, retention), Glue zone databases, Lake Formation settings, tags and grants."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import assertions
from e360_infra.config import ZONES
from infra_synth import Synthesized

LAKE = ("raw", "master", "artefacts")
BLOCK_ALL = {
    "BlockPublicAcls": True,
    "BlockPublicPolicy": True,
    "IgnorePublicAcls": True,
    "RestrictPublicBuckets": True,
}


def _buckets(synth: Synthesized) -> dict[str, tuple[str, dict[str, Any]]]:
    """purpose -> (logical id, resource)."""
    found = {}
    for logical_id, resource in synth.resources("Data", "AWS::S3::Bucket").items():
        name = resource["Properties"]["BucketName"]
        purpose = name.removeprefix(f"{synth.env.prefix}-").split("-")[0]
        found[purpose] = (logical_id, resource)
    return found


def _policy(synth: Synthesized, logical_id: str) -> list[dict[str, Any]]:
    for policy in synth.resources("Data", "AWS::S3::BucketPolicy").values():
        if policy["Properties"]["Bucket"] == {"Ref": logical_id}:
            return policy["Properties"]["PolicyDocument"]["Statement"]
    raise AssertionError(f"no bucket policy for {logical_id}")


def test_lake_buckets_and_the_log_bucket(each: Synthesized) -> None:
    assert sorted(_buckets(each)) == sorted([*LAKE, "logs"])


@pytest.mark.parametrize("purpose", LAKE)
def test_lake_bucket_is_encrypted_versioned_private_and_logged(
    each: Synthesized, purpose: str
) -> None:
    _, bucket = _buckets(each)[purpose]
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["ServerSideEncryptionByDefault"]["KMSMasterKeyID"]["Fn::GetAtt"][1] == "Arn"
    assert rule["BucketKeyEnabled"] is True
    assert properties["VersioningConfiguration"] == {"Status": "Enabled"}
    assert properties["PublicAccessBlockConfiguration"] == BLOCK_ALL
    assert properties["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    logs_id = _buckets(each)["logs"][0]
    assert properties["LoggingConfiguration"] == {
        "DestinationBucketName": {"Ref": logs_id},
        "LogFilePrefix": f"s3/{purpose}/",
    }
    rules = {r["Id"]: r for r in properties["LifecycleConfiguration"]["Rules"]}
    assert rules["tidy-versions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": each.env.lake.noncurrent_version_expiration_days
    }
    assert rules["tidy-versions"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    # Current Iceberg files are never expired by age: table metadata still points at them.
    assert all("ExpirationInDays" not in r for r in rules.values() if r.get("Prefix") is None)


@pytest.mark.parametrize("purpose", [*LAKE, "logs"])
def test_every_bucket_refuses_plain_http_and_old_tls(each: Synthesized, purpose: str) -> None:
    logical_id, _ = _buckets(each)[purpose]
    denies = [s for s in _policy(each, logical_id) if s["Effect"] == "Deny"]
    conditions = [s["Condition"] for s in denies]
    assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
    assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions
    for statement in denies:
        assert statement["Principal"] == {"AWS": "*"}
        assert statement["Action"] == "s3:*"


def test_log_bucket_takes_s3_and_alb_logs_only(each: Synthesized) -> None:
    logical_id, bucket = _buckets(each)["logs"]
    properties = bucket["Properties"]
    (rule,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert (
        rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    )  # log delivery needs it
    assert properties["PublicAccessBlockConfiguration"] == BLOCK_ALL
    allows = [s for s in _policy(each, logical_id) if s["Effect"] == "Allow"]
    s3_logging = [s for s in allows if s["Principal"] == {"Service": "logging.s3.amazonaws.com"}]
    assert len(s3_logging) == len(LAKE)  # one statement per source bucket
    for statement in s3_logging:
        assert statement["Action"] == "s3:PutObject"
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": each.env.account}
    (alb,) = [s for s in allows if "AWS" in s["Principal"] and "Join" in str(s["Principal"])]
    assert alb["Action"] == "s3:PutObject"
    assert f"/alb/AWSLogs/{each.env.account}/*" in str(alb["Resource"])
    others = [s for s in allows if s not in s3_logging and s is not alb]
    # dev only: CDK's empty-on-delete function, so `cdk destroy` can remove the bucket.
    assert len(others) == (0 if each.env.retain else 1)


def test_prod_retains_and_dev_destroys(dev: Synthesized, prod: Synthesized) -> None:
    for synth, policy in ((prod, "Retain"), (dev, "Delete")):
        for _, bucket in _buckets(synth).values():
            assert bucket["DeletionPolicy"] == policy
        for key in synth.resources("Data", "AWS::KMS::Key").values():
            assert key["DeletionPolicy"] == policy
        for database in synth.resources("Data", "AWS::Glue::Database").values():
            assert database["DeletionPolicy"] == policy
    assert dev.resources("Data", "Custom::S3AutoDeleteObjects")
    assert not prod.resources("Data", "Custom::S3AutoDeleteObjects")


def test_lake_key_rotates(each: Synthesized) -> None:
    key = each.one("Data", "AWS::KMS::Key")
    assert key["EnableKeyRotation"] is True


def test_zone_databases_are_lake_formation_managed(each: Synthesized) -> None:
    databases = each.resources("Data", "AWS::Glue::Database")
    assert len(databases) == len(ZONES)
    for database in databases.values():
        database_input = database["Properties"]["DatabaseInput"]
        assert database_input["CreateTableDefaultPermissions"] == []


def test_lake_formation_settings_append_the_deploy_role(each: Synthesized) -> None:
    settings = each.one("Data", "AWS::LakeFormation::DataLakeSettings")
    assert settings["MutationType"] == "APPEND"
    (admin,) = settings["Admins"]
    assert "cfn-exec-role" in str(admin["DataLakePrincipalIdentifier"])


def test_locations_registered_with_their_own_role(each: Synthesized) -> None:
    locations = [
        r["Properties"] for r in each.resources("Data", "AWS::LakeFormation::Resource").values()
    ]
    arns = sorted(location["ResourceArn"]["Fn::Join"][1][-1] for location in locations)
    assert arns == sorted(
        f":s3:::{each.env.bucket_name(p)}/{each.env.lake.warehouse_prefix}"
        for p in ("master", "raw")
    )
    for location in locations:
        assert location["UseServiceLinkedRole"] is False
        assert location["RoleArn"]["Fn::GetAtt"][1] == "Arn"


def test_lf_tags_and_their_assignment_to_zones(each: Synthesized) -> None:
    tags = {
        t["Properties"]["TagKey"]: t["Properties"]["TagValues"]
        for t in each.resources("Data", "AWS::LakeFormation::Tag").values()
    }
    assert tags["domain"] == each.env.governance.domains
    assert tags["sensitivity"] == ["public", "internal", "confidential", "pii"]
    assigned = {}
    for association in each.resources("Data", "AWS::LakeFormation::TagAssociation").values():
        properties = association["Properties"]
        zone = properties["Resource"]["Database"]["Name"]
        assigned[zone] = {tag["TagKey"]: tag["TagValues"] for tag in properties["LFTags"]}
    assert set(assigned) == set(ZONES)
    for zone, zone_tags in assigned.items():
        assert zone_tags["sensitivity"] == [each.env.governance.zone_sensitivity[zone]]
        assert zone_tags["domain"] == [each.env.governance.zone_domain]
    assert assigned["raw"]["sensitivity"] == ["pii"]


def test_persona_grants_are_tag_based_and_read_only(each: Synthesized) -> None:
    template = each.template("Data")
    grants = [
        g["Properties"]
        for g in each.resources("Data", "AWS::LakeFormation::PrincipalPermissions").values()
    ]
    assert len(grants) == 4  # stewards and domain readers: databases and tables
    for grant in grants:
        assert set(grant["Permissions"]) <= {"DESCRIBE", "SELECT"}
        assert grant["PermissionsWithGrantOption"] == []
        assert "LFTagPolicy" in grant["Resource"]
    expressions = {str(g["Resource"]["LFTagPolicy"]["Expression"]) for g in grants}
    assert str([{"TagKey": "sensitivity", "TagValues": ["public", "internal"]}]) in expressions
    assert str([{"TagKey": "domain", "TagValues": ["master_data"]}]) in expressions
    template.has_resource_properties(
        "AWS::IAM::Role", {"RoleName": f"{each.env.prefix}-stewards", "MaxSessionDuration": 14400}
    )
    template.has_resource_properties(
        "AWS::IAM::Role", {"RoleName": f"{each.env.prefix}-domain-readers"}
    )


def test_outputs_give_the_e360_deployment_section(each: Synthesized) -> None:
    outputs = each.templates["Data"]["Outputs"]
    assert outputs["WarehouseUri"]["Value"] == f"s3://{each.env.bucket_name('master')}/iceberg"
    assert "type: glue" in outputs["E360Deployment"]["Value"]
    assert "target: redshift" in outputs["E360Deployment"]["Value"]
    each.template("Data").has_output("WarehouseUri", assertions.Match.any_value())
