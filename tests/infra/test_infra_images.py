"""Images stack: immutable, scanned, encrypted repositories; EMR Serverless may pull Spark's."""

from __future__ import annotations

import json

from infra_synth import Synthesized


def test_repositories_are_immutable_scanned_and_encrypted(each: Synthesized) -> None:
    repositories = {
        r["Properties"]["RepositoryName"]: r
        for r in each.resources("Images", "AWS::ECR::Repository").values()
    }
    assert sorted(repositories) == [each.env.prefix, f"{each.env.prefix}-spark"]
    for repository in repositories.values():
        properties = repository["Properties"]
        assert properties["ImageTagMutability"] == "IMMUTABLE"
        assert properties["ImageScanningConfiguration"] == {"ScanOnPush": True}
        assert properties["EncryptionConfiguration"]["EncryptionType"] == "KMS"
        assert properties["EmptyOnDelete"] is (not each.env.retain)
        assert repository["DeletionPolicy"] == ("Retain" if each.env.retain else "Delete")


def test_only_emr_serverless_of_this_account_pulls_the_spark_image(each: Synthesized) -> None:
    repositories = each.resources("Images", "AWS::ECR::Repository").values()
    service = next(
        r for r in repositories if not r["Properties"]["RepositoryName"].endswith("-spark")
    )
    spark = next(r for r in repositories if r["Properties"]["RepositoryName"].endswith("-spark"))
    assert "RepositoryPolicyText" not in service["Properties"]
    (statement,) = spark["Properties"]["RepositoryPolicyText"]["Statement"]
    assert statement["Principal"] == {"Service": "emr-serverless.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": each.env.account}
    assert ":emr-serverless:" in json.dumps(statement["Condition"]["ArnLike"])
    assert sorted(statement["Action"]) == [
        "ecr:BatchGetImage",
        "ecr:DescribeImages",
        "ecr:GetDownloadUrlForLayer",
    ]


def test_services_and_spark_run_images_from_these_repositories(each: Synthesized) -> None:
    application = each.one("Compute", "AWS::EMRServerless::Application")
    image = json.dumps(application["ImageConfiguration"]["ImageUri"])
    assert "ImagesSpark" in image and f":{each.env.compute.image_tag}" in image
    assert each.templates["Images"]["Outputs"]["ImageRepository"]
