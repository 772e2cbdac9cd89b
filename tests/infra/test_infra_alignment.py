"""The names the deployment creates line up with what e360 reads: zones, the `deployment:`
section of `e360.yaml` (as `E360__...` overrides), the dbt profile's Redshift variables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from e360_infra.config import ZONES
from e360_infra.e360_settings import deployment_section, warehouse_uri, zone_location
from infra_synth import Synthesized

REPO = Path(__file__).resolve().parents[2]
DEMO_CONFIG = REPO / "examples" / "demo" / "e360.yaml"


def _container(synth: Synthesized, family_suffix: str) -> dict[str, Any]:
    for resource in synth.resources("Compute", "AWS::ECS::TaskDefinition").values():
        properties = resource["Properties"]
        if properties["Family"].endswith(family_suffix):
            return properties["ContainerDefinitions"][0]
    raise AssertionError(f"no task definition {family_suffix}")


def _environment(container: dict[str, Any]) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in container.get("Environment", [])}


def test_zones_are_e360_zones() -> None:
    from e360.lake import ZONES as E360_ZONES

    assert tuple(ZONES) == tuple(E360_ZONES)


def test_glue_databases_are_the_zones_at_their_lake_locations(each: Synthesized) -> None:
    databases = {
        resource["Properties"]["DatabaseInput"]["Name"]: resource["Properties"]["DatabaseInput"]
        for resource in each.resources("Data", "AWS::Glue::Database").values()
    }
    assert set(databases) == set(ZONES)
    for zone, database in databases.items():
        assert database["LocationUri"] == zone_location(each.env, zone)
    buckets = {
        resource["Properties"]["BucketName"]
        for resource in each.resources("Data", "AWS::S3::Bucket").values()
    }
    for location in [warehouse_uri(each.env), *(zone_location(each.env, z) for z in ZONES)]:
        assert location.removeprefix("s3://").split("/")[0] in buckets


def test_container_overrides_validate_as_e360_configuration(each: Synthesized) -> None:
    """Feed the daemon's E360__ variables to e360's own loader: they must be known keys and
    give the production deployment section."""
    from e360.config import load_config

    variables = {
        name: value
        for name, value in _environment(_container(each, "-dagster-daemon")).items()
        if name.startswith("E360__")
    }
    assert all(isinstance(value, str) for value in variables.values())
    config = load_config(DEMO_CONFIG, environ=variables)
    deployment = config.deployment
    assert deployment.catalog.type == "glue"
    assert deployment.catalog.warehouse == warehouse_uri(each.env)
    assert deployment.engine.type == "spark"
    assert deployment.warehouse.target == "redshift"
    assert deployment.warehouse.lake_schema == each.env.warehouse.lake_schema
    assert str(config.root) == each.env.compute.scratch_path
    expected = deployment_section(each.env)
    assert deployment.catalog.warehouse == expected["catalog"]["warehouse"]


def test_every_service_runs_e360_in_its_production_environment(each: Synthesized) -> None:
    for suffix in ("-ingestion", "-steward", "-dagster-webserver", "-dagster-daemon"):
        environment = _environment(_container(each, suffix))
        assert environment["E360_ENV"] == "prod"  # orchestration's name for the AWS deployment
        assert environment["E360_CONFIG"] == each.env.compute.e360_config_path
        assert environment["E360__DEPLOYMENT__CATALOG__TYPE"] == "glue"


def test_dbt_redshift_profile_gets_every_variable_it_needs(each: Synthesized) -> None:
    profile = (REPO / "dbt_project" / "profiles.yml").read_text()
    block = profile[profile.index("redshift:") :]
    # env_var('X') without a default must be provided; env_var('X', 'default') may be.
    required = set(re.findall(r"env_var\('(E360_REDSHIFT_[A-Z_]+)'\)", block))
    assert required, "the dbt profile's Redshift target changed shape"
    daemon = _container(each, "-dagster-daemon")
    provided = set(_environment(daemon)) | {secret["Name"] for secret in daemon["Secrets"]}
    assert required <= provided
    assert {"E360_REDSHIFT_USER", "E360_REDSHIFT_PASSWORD"} <= {
        s["Name"] for s in daemon["Secrets"]
    }


def test_ingestion_consumers_know_the_stream(each: Synthesized) -> None:
    environment = _environment(_container(each, "-ingestion"))
    assert environment["E360_KAFKA_TOPICS"].split(",") == [
        t.name for t in each.env.streaming.topics
    ]
    assert environment["E360_KAFKA_CONSUMER_GROUP"] == each.env.streaming.consumer_group
    assert "Fn::ImportValue" in environment["E360_KAFKA_CLUSTER_ARN"]
