from __future__ import annotations

from constructs import Construct

from e360_infra.config import EnvironmentConfig
from e360_infra.constructs.network import Network
from e360_infra.stacks.base import E360Stack


class NetworkStack(E360Stack):
    def __init__(self, scope: Construct, construct_id: str, *, env: EnvironmentConfig) -> None:
        super().__init__(scope, construct_id, env=env, description="VPC, flow logs, endpoints")
        self.network = Network(self, "Network", env=env)
        self.output("VpcId", self.network.vpc.vpc_id, "the e360 VPC")
