"""Per-environment deployment settings: `infra/environments/<env>.yaml`, validated on load.

A mistake stops synthesis with one line naming the file, the key and the reason, the same way
`e360.yaml` errors read: `environments/prod.yaml: compute.steward.cpu: Input should be ...`.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

ENVIRONMENTS_DIR = Path(__file__).resolve().parents[1] / "environments"

# The Iceberg zones of e360 (`e360.lake.ZONES`); e360 uses them verbatim as Glue database names.
Zone = Literal["raw", "quarantine", "standardized", "master", "conformed"]
ZONES: tuple[Zone, ...] = ("raw", "quarantine", "standardized", "master", "conformed")
Sensitivity = Literal["public", "internal", "confidential", "pii"]
InterfaceEndpoint = Literal[
    "glue",
    "lakeformation",
    "secretsmanager",
    "ecr",
    "ecr_docker",
    "logs",
    "sts",
    "kms",
    "kafka",
    "emr_serverless",
]
# The retention periods CloudWatch Logs accepts.
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
)  # fmt: skip

Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,30}$")]


def _pinned(tag: str) -> str:
    # The repositories have immutable tags: a moving tag such as `latest` cannot be redeployed.
    if tag == "latest":
        raise ValueError("name an image version, not 'latest'")
    return tag


ImageTag = Annotated[
    str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"), AfterValidator(_pinned)
]

# Fargate accepts these memory sizes (MiB) per CPU unit.
_FARGATE_MEMORY: dict[int, range] = {
    256: range(512, 2048 + 1, 512),
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
}


def _log_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"CloudWatch Logs keeps logs for one of {list(LOG_RETENTION_DAYS)} days")
    return value


LogRetention = Annotated[int, AfterValidator(_log_retention)]


class InfraConfigError(Exception):
    """A deployment configuration mistake; the message names the file, key and reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NetworkConfig(_Strict):
    cidr: str = "10.40.0.0/16"
    # Redshift Serverless wants subnets in three Availability Zones. Named here rather than
    # looked up, so synthesis needs no AWS account; default: the region's a, b and c.
    availability_zones: list[str] | None = Field(default=None, min_length=3, max_length=3)
    nat_gateways: int = Field(default=1, ge=1, le=3)
    interface_endpoints: list[InterfaceEndpoint] = Field(default_factory=lambda: ["glue"])
    flow_log_retention_days: LogRetention = 30

    @field_validator("cidr")
    @classmethod
    def _cidr(cls, value: str) -> str:
        network = ipaddress.ip_network(value)
        # Three /24 public, three /20 app and three /24 data subnets, /20-aligned.
        if network.prefixlen > 17:
            raise ValueError("the subnets need a /17 or larger")
        return value

    @field_validator("interface_endpoints")
    @classmethod
    def _once_each(cls, value: list[InterfaceEndpoint]) -> list[InterfaceEndpoint]:
        if len(set(value)) != len(value):
            raise ValueError("lists an endpoint twice")
        return value


class LakeConfig(_Strict):
    warehouse_prefix: str = Field(default="iceberg", pattern=r"^[a-z0-9][a-z0-9_-]*$")
    intelligent_tiering_after_days: int = Field(default=30, ge=0)
    noncurrent_version_expiration_days: int = Field(default=30, ge=1)
    log_expiration_days: int = Field(default=365, ge=1)
    emr_log_expiration_days: int = Field(default=90, ge=1)


class GovernanceConfig(_Strict):
    # Extra Lake Formation admins (e.g. the platform team's SSO role); the CloudFormation
    # execution role of the CDK bootstrap is always added so the stack can manage LF resources.
    admin_arns: list[str] = Field(default_factory=list)
    manage_data_lake_settings: bool = True
    domains: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] = Field(
        default_factory=lambda: ["master_data", "customer", "product", "sales", "marketing"],
        min_length=1,
    )
    zone_domain: str = "master_data"
    zone_sensitivity: dict[Zone, Sensitivity] = Field(
        default_factory=lambda: {
            "raw": "pii",
            "quarantine": "pii",
            "standardized": "pii",
            "master": "pii",
            "conformed": "internal",
        }
    )
    domain_reader_sensitivities: list[Sensitivity] = Field(
        default_factory=lambda: ["public", "internal"], min_length=1
    )

    @field_validator("admin_arns")
    @classmethod
    def _arns(cls, value: list[str]) -> list[str]:
        for arn in value:
            if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:(role|user)/[\w+=,.@/-]+", arn):
                raise ValueError(f"{arn!r} is not an IAM role or user ARN")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> GovernanceConfig:
        if self.zone_domain not in self.domains:
            raise ValueError(f"zone_domain {self.zone_domain!r} is not one of domains")
        missing = [zone for zone in ZONES if zone not in self.zone_sensitivity]
        if missing:
            raise ValueError(f"zone_sensitivity misses zones {missing}")
        return self


class TopicConfig(_Strict):
    name: str = Field(pattern=r"^[A-Za-z0-9._-]{1,249}$")
    source: str = Field(description="the e360.yaml source this topic feeds")
    partitions: int = Field(default=6, ge=1)
    description: str = ""


class StreamingConfig(_Strict):
    consumer_group: str = Field(default="e360-ingestion", pattern=r"^[A-Za-z0-9._-]+$")
    topics: list[TopicConfig] = Field(min_length=1)

    @field_validator("topics")
    @classmethod
    def _unique(cls, value: list[TopicConfig]) -> list[TopicConfig]:
        names = [topic.name for topic in value]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"duplicate topic names {duplicates}")
        return value


class ServiceConfig(_Strict):
    cpu: int = 512
    memory_mib: int = 1024
    desired_count: int = Field(default=1, ge=0)
    command: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _fargate_size(self) -> ServiceConfig:
        if self.cpu not in _FARGATE_MEMORY:
            raise ValueError(f"cpu must be one of {sorted(_FARGATE_MEMORY)} (Fargate CPU units)")
        if self.memory_mib not in _FARGATE_MEMORY[self.cpu]:
            sizes = _FARGATE_MEMORY[self.cpu]
            raise ValueError(
                f"memory_mib {self.memory_mib} does not fit cpu {self.cpu}: "
                f"{sizes.start}..{sizes.stop - 1} in steps of {sizes.step}"
            )
        return self


class WebServiceConfig(ServiceConfig):
    port: int = Field(default=8080, ge=1024, le=65535)
    health_check_path: str = Field(default="/health", pattern=r"^/")


class DatabaseConfig(_Strict):
    engine_version: str = Field(default="17.5", pattern=r"^1[4-7]\.\d+$")
    instance_type: str = Field(default="t4g.micro", pattern=r"^[a-z0-9]+\.[a-z0-9]+$")
    allocated_storage_gib: int = Field(default=20, ge=20)
    max_allocated_storage_gib: int = Field(default=100, ge=20)
    multi_az: bool = False
    backup_retention_days: int = Field(default=7, ge=1, le=35)
    port: int = Field(default=5433, ge=1150, le=65535)
    # Secrets Manager rotation of the admin secret; null turns it off. The services read the
    # credentials at task start, so restart them after a rotation (see infra/README.md).
    rotation_days: int | None = Field(default=30, ge=1, le=365)
    # Not every small instance class supports Performance Insights (e.g. db.t4g.micro).
    performance_insights: bool = True
    database_name: str = Field(default="e360", pattern=r"^[a-z][a-z0-9_]*$")


class SparkConfig(_Strict):
    release_label: str = Field(default="emr-7.9.0", pattern=r"^emr-\d+\.\d+\.\d+$")
    max_vcpu: int = Field(default=32, ge=1)
    max_memory_gb: int = Field(default=128, ge=1)
    max_disk_gb: int = Field(default=1000, ge=20)
    idle_timeout_minutes: int = Field(default=15, ge=1)
    custom_image: bool = True  # the `e360-spark` ECR image (EMR base + Splink + e360)


class ComputeConfig(_Strict):
    image_tag: ImageTag
    e360_config_path: str = Field(default="/app/e360.yaml", pattern=r"^/")
    scratch_path: str = Field(default="/var/lib/e360", pattern=r"^/")
    log_retention_days: LogRetention = 90
    ingestion: ServiceConfig
    steward: WebServiceConfig
    dagster_webserver: WebServiceConfig
    dagster_daemon: ServiceConfig
    database: DatabaseConfig = DatabaseConfig()
    spark: SparkConfig = SparkConfig()


class WarehouseConfig(_Strict):
    database_name: str = Field(default="e360", pattern=r"^[a-z][a-z0-9_]*$")
    admin_username: str = Field(default="e360_admin", pattern=r"^[a-z][a-z0-9_]*$")
    base_capacity_rpu: int = Field(default=8, ge=8, le=1024)
    max_capacity_rpu: int | None = Field(default=None, ge=8)
    port: int = Field(default=5439, ge=5431, le=5455)
    lake_schema: str = Field(default="e360_lake", pattern=r"^[a-z][a-z0-9_]*$")
    # Secrets Manager rotation of the admin secret (hosted Redshift rotation); null turns it off.
    rotation_days: int | None = Field(default=30, ge=1, le=365)

    @field_validator("base_capacity_rpu")
    @classmethod
    def _steps_of_8(cls, value: int) -> int:
        if value % 8:
            raise ValueError("Redshift Serverless capacity comes in steps of 8 RPUs")
        return value

    @model_validator(mode="after")
    def _max(self) -> WarehouseConfig:
        if self.max_capacity_rpu is not None and self.max_capacity_rpu < self.base_capacity_rpu:
            raise ValueError("max_capacity_rpu is below base_capacity_rpu")
        return self


class AccessConfig(_Strict):
    domain_name: str = Field(max_length=253, pattern=r"^([a-z0-9-]{1,63}\.)+[a-z]{2,63}$")
    certificate_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[\w-]+$"
    )
    cognito_domain_prefix: str = Field(pattern=r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
    allowed_cidrs: list[str] = Field(min_length=1)
    internet_facing: bool = True
    waf: bool = True

    @field_validator("allowed_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        for cidr in value:
            network = ipaddress.ip_network(cidr)
            if network.prefixlen == 0:
                raise ValueError("0.0.0.0/0 would open the steward app to the internet")
        return value

    @field_validator("cognito_domain_prefix")
    @classmethod
    def _no_reserved_words(cls, value: str) -> str:
        if any(word in value for word in ("aws", "amazon", "cognito")):
            raise ValueError("Cognito refuses domain prefixes containing aws, amazon or cognito")
        return value


class EnvironmentConfig(_Strict):
    name: Name
    account: str = Field(pattern=r"^\d{12}$")
    region: str = Field(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
    removal: Literal["retain", "destroy"]
    tags: dict[str, str] = Field(default_factory=dict)
    network: NetworkConfig = NetworkConfig()
    lake: LakeConfig = LakeConfig()
    governance: GovernanceConfig = GovernanceConfig()
    streaming: StreamingConfig
    compute: ComputeConfig
    warehouse: WarehouseConfig = WarehouseConfig()
    access: AccessConfig

    @model_validator(mode="after")
    def _zones_in_region(self) -> EnvironmentConfig:
        for zone in self.network.availability_zones or []:
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", zone):
                raise ValueError(f"network.availability_zones: {zone!r} is not in {self.region}")
        return self

    @property
    def availability_zones(self) -> list[str]:
        return self.network.availability_zones or [f"{self.region}{s}" for s in "abc"]

    @property
    def retain(self) -> bool:
        return self.removal == "retain"

    @property
    def prefix(self) -> str:
        """Prefix of every named resource: `e360-<env>`."""
        return f"e360-{self.name}"

    def bucket_name(self, purpose: str) -> str:
        # Bucket names are global: account and region keep them unique and predictable, so the
        # matching `e360.yaml` can name the warehouse before anything is deployed.
        return f"{self.prefix}-{purpose}-{self.account}-{self.region}"


def environment_names(directory: Path = ENVIRONMENTS_DIR) -> list[str]:
    return sorted(path.stem for path in directory.glob("*.yaml"))


def load_environment(name: str, directory: Path = ENVIRONMENTS_DIR) -> EnvironmentConfig:
    """Load and validate `<directory>/<name>.yaml`; the environment's name is the file's stem."""
    path = directory / f"{name}.yaml"
    shown = f"{directory.name}/{path.name}"
    if not path.is_file():
        known = ", ".join(environment_names(directory)) or "none"
        raise InfraConfigError(f"{shown}: no such environment file (known: {known})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise InfraConfigError(f"{shown}: not valid YAML: {error}") from error
    if not isinstance(raw, dict):
        raise InfraConfigError(f"{shown}: expected a mapping at the top level")
    if "name" in raw:
        raise InfraConfigError(f"{shown}: name: not allowed, the file name is the environment")
    try:
        return EnvironmentConfig.model_validate({**raw, "name": name})
    except ValidationError as error:
        first = error.errors()[0]
        key = ".".join(str(part) for part in first["loc"]) or "(top level)"
        message = first["msg"].removeprefix("Value error, ")
        more = f" (and {error.error_count() - 1} more)" if error.error_count() > 1 else ""
        raise InfraConfigError(f"{shown}: {key}: {message}{more}") from error
