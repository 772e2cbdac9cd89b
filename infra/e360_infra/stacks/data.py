from __future__ import annotations

import yaml
from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.catalog import Catalog
from e360_infra.constructs.lake import Lake
from e360_infra.e360_settings import deployment_section, warehouse_uri
from e360_infra.stacks.base import E360Stack


class DataStack(E360Stack):
    """The lake buckets, the Glue catalog of the zones and their Lake Formation governance."""

    def __init__(self, scope: Construct, construct_id: str, *, env: EnvironmentConfig) -> None:
        super().__init__(
            scope, construct_id, env=env, description="lake buckets, Glue catalog, Lake Formation"
        )
        self.lake = Lake(self, "Lake", env=env)
        self.catalog = Catalog(self, "Catalog", env=env, lake=self.lake)
        self.output("WarehouseUri", warehouse_uri(env), "deployment.catalog.warehouse")
        self.output(
            "E360Deployment",
            yaml.safe_dump({"deployment": deployment_section(env)}, sort_keys=False),
            "the deployment section of e360.yaml for this environment",
        )
        for purpose, bucket in self.lake.buckets.items():
            self.output(f"{purpose.title()}Bucket", bucket.bucket_name, f"the {purpose} bucket")
        self.output("StewardsRoleArn", self.catalog.stewards_role.role_arn, "stewards persona")
        self.output(
            "DomainReadersRoleArn",
            self.catalog.domain_readers_role.role_arn,
            "domain readers persona",
        )
