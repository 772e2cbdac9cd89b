"""The names the deployment gives e360: the `deployment:` section of `e360.yaml` and the variables
the containers get. One place, so the stacks and the application can never disagree.

e360 overrides any `e360.yaml` key from `E360__SECTION__KEY` variables, so the containers carry
the deployment section as variables and the image's `e360.yaml` needs only sources and entities.
"""

from __future__ import annotations

from typing import Any

from e360_infra.config import ZONES, EnvironmentConfig, Zone

# Zones in the raw bucket hold data as received (raw payloads, rejected rows); the master bucket
# holds what e360 derived from it, which is what Redshift loads.
ZONE_BUCKET: dict[Zone, str] = {
    "raw": "raw",
    "quarantine": "raw",
    "standardized": "master",
    "master": "master",
    "conformed": "master",
}
LAKE_BUCKETS: tuple[str, ...] = ("raw", "master", "artefacts")

# e360's orchestration knows two environments: `local` (embedded) and `prod` (the AWS deployment,
# whatever this environment is called here).
E360_ENV = "prod"


def warehouse_uri(env: EnvironmentConfig) -> str:
    """`deployment.catalog.warehouse`: where Iceberg tables without a zone location would go."""
    return f"s3://{env.bucket_name('master')}/{env.lake.warehouse_prefix}"


def zone_location(env: EnvironmentConfig, zone: Zone) -> str:
    """The Glue database location of a zone; pyiceberg puts each table under it."""
    return f"s3://{env.bucket_name(ZONE_BUCKET[zone])}/{env.lake.warehouse_prefix}/{zone}.db"


def zone_locations(env: EnvironmentConfig) -> dict[Zone, str]:
    return {zone: zone_location(env, zone) for zone in ZONES}


def deployment_section(env: EnvironmentConfig) -> dict[str, Any]:
    """The `deployment:` section of the `e360.yaml` this environment runs."""
    return {
        "catalog": {"type": "glue", "warehouse": warehouse_uri(env)},
        "engine": {"type": "spark"},
        "warehouse": {"target": "redshift", "lake_schema": env.warehouse.lake_schema},
    }


def deployment_variables(env: EnvironmentConfig) -> dict[str, str]:
    """`deployment_section` as e360's `E360__...` override variables."""
    variables: dict[str, str] = {}
    for section, values in deployment_section(env).items():
        for key, value in values.items():
            variables[f"E360__DEPLOYMENT__{section.upper()}__{key.upper()}"] = str(value)
    return variables
