from __future__ import annotations

from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.network import Network
from e360_infra.constructs.warehouse import Warehouse
from e360_infra.stacks.base import E360Stack


class WarehouseStack(E360Stack):
    """Redshift Serverless: the enterprise layer dbt builds."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        env: EnvironmentConfig,
        network: Network,
        lake_key_arn: str,
    ) -> None:
        super().__init__(scope, construct_id, env=env, description="Redshift Serverless warehouse")
        self.warehouse = Warehouse(
            self, "Warehouse", env=env, network=network, lake_key_arn=lake_key_arn
        )
        self.output("Endpoint", self.warehouse.endpoint_address, "E360_REDSHIFT_HOST")
        self.output("Database", self.warehouse.database_name, "E360_REDSHIFT_DBNAME")
        self.output("AdminSecretArn", self.warehouse.admin_secret_arn, "admin credentials")
        self.output("CopyRoleArn", self.warehouse.copy_role.role_arn, "COPY from the master bucket")
