"""Typed configuration: one `e360.yaml`, validated on load, overridable by `E360__A__B` variables.

Every mistake is reported as `<file>: <dotted.key>: <reason>` so it can be fixed without a
traceback. Relative paths resolve against the config file's folder (`project.root`) and then
against the project root (everything under `paths`).
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, field_validator

from e360.entities import (
    CANONICAL_ATTRIBUTES,
    CONFORMED_EVENT_TYPES,
    DEFAULT_ID_PREFIX,
    RECORD_KEY_COLUMNS,
    RECORD_LINEAGE_COLUMNS,
)
from e360.errors import ConfigError
from e360.sqlcheck import DuckDBBinder, pair_rule_problem, record_expression_problem
from e360.zones import STANDARDIZED_CUSTOMER_COLUMNS, STANDARDIZED_PRODUCT_COLUMNS

ENV_PREFIX = "E360__"

SurvivorshipRuleName = Literal[
    "source_priority", "most_recent", "most_complete", "most_frequent", "non_null_first"
]
# A blocking rule is either a list of columns (Splink's block_on) or a SQL condition on l./r.
BlockingRule = list[str] | str
Probability = Annotated[float, Field(ge=0.0, le=1.0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProjectSettings(_Strict):
    name: str = "e360"
    root: Path = Path(".")


class PathSettings(_Strict):
    landing: Path = Path("landing")
    lake: Path = Path("lake")
    runs: Path = Path("runs")
    models: Path = Path("models")


class CatalogSettings(_Strict):
    """Embedded: an Iceberg SQL catalog on SQLite. Production: AWS Glue with an S3 warehouse."""

    type: Literal["sql", "glue"] = "sql"
    uri: str | None = None  # default: sqlite file inside the lake folder
    warehouse: str | None = None  # default: <lake>/warehouse; s3://bucket/prefix in production
    properties: dict[str, str] = Field(default_factory=dict)


class EngineSettings(_Strict):
    type: Literal["duckdb", "spark"] = "duckdb"
    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = None
    spark_conf: dict[str, str] = Field(default_factory=dict)
    checkpoint_dir: str | None = None  # Spark checkpoints; default <root>/spark-checkpoints


class PostgresWarehouse(_Strict):
    """A PostgreSQL warehouse (the master zone is loaded with COPY); no password in the file."""

    host: str = "127.0.0.1"
    port: int = Field(default=5432, ge=1, le=65535)
    dbname: str = "e360"
    user: str = "e360"
    password_env: str = "E360_PG_PASSWORD"  # the environment variable holding the password


class RedshiftWarehouse(_Strict):
    """Amazon Redshift: the pinned snapshot goes to S3 as Parquet, then `COPY ... FORMAT PARQUET`."""

    host: str | None = None
    port: int = Field(default=5439, ge=1, le=65535)
    dbname: str = "dev"
    user: str = "e360_publisher"
    password_env: str = "E360_REDSHIFT_PASSWORD"
    s3_staging: str | None = None  # s3://bucket/prefix the loader writes Parquet under
    iam_role_arn: str | None = None  # the role Redshift assumes to read s3_staging
    region: str | None = None
    reader_roles: list[str] = Field(default_factory=lambda: ["domain_reader"])
    steward_roles: list[str] = Field(default_factory=lambda: ["data_steward"])


class WarehouseSettings(_Strict):
    target: Literal["duckdb", "postgres", "redshift"] = "duckdb"
    path: Path = Path("warehouse/e360.duckdb")  # the DuckDB file (duckdb target only)
    lake_schema: str = "e360_lake"  # where the master zone is loaded for dbt to read
    postgres: PostgresWarehouse = PostgresWarehouse()
    redshift: RedshiftWarehouse = RedshiftWarehouse()


class LockSettings(_Strict):
    """The project lock serialising ingest, match and publish on one lake (`e360.locks`)."""

    # default: <lake>/.e360.lock on the embedded catalog, <root>/.e360.lock on Glue
    path: Path | None = None
    wait_seconds: float = Field(default=600, ge=0)  # then exit naming the holder


class DeploymentSettings(_Strict):
    catalog: CatalogSettings = CatalogSettings()
    engine: EngineSettings = EngineSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    lock: LockSettings = LockSettings()


class EventSettings(_Strict):
    """How a source's rows become conformed events."""

    type: str | None = None  # a constant event type for every row
    type_column: str | None = None  # or a source column, mapped through `type_map`
    type_map: dict[str, str] = Field(default_factory=dict)
    channel: str
    customer_source: str | None = None  # which source's keys `customer_ref` holds
    product_source: str | None = None

    @field_validator("type_map")
    @classmethod
    def _known_types(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value.values()) - set(CONFORMED_EVENT_TYPES))
        if unknown:
            raise ValueError(f"unknown event types {unknown}; use {list(CONFORMED_EVENT_TYPES)}")
        return value


class CsvOptions(_Strict):
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    # For files without a byte-order mark; a BOM (UTF-8, UTF-16 LE/BE, UTF-32 LE/BE) decides.
    encoding: str = "utf-8-sig"  # utf-8, ignoring the byte-order mark spreadsheets write
    # Characters one field may hold; a larger field quarantines its row, the next line goes on.
    field_size_limit: int = Field(default=64 * 1024 * 1024, ge=1)


class S3Location(_Strict):
    """Landing files in S3: `path` is then a glob under `s3://<bucket>/<prefix>`."""

    bucket: str = Field(min_length=3)
    prefix: str = ""
    region: str | None = None
    endpoint_url: str | None = None  # an S3-compatible endpoint (tests, VPC endpoints)


class StreamSettings(_Strict):
    """A Kafka (Amazon MSK) source: topics consumed into the raw zone exactly once."""

    topics: list[str] = Field(min_length=1)
    bootstrap_servers: str = Field(min_length=1)
    group_id: str | None = None  # default: e360.<source>
    value_format: Literal["json", "avro"] = "json"
    # "confluent": values carry the schema-registry prefix (magic byte + 4-byte schema id).
    avro_wire_format: Literal["plain", "confluent"] = "plain"
    # plaintext (local brokers), tls, or msk_iam: SASL/OAUTHBEARER with IAM tokens over TLS.
    security: Literal["plaintext", "tls", "msk_iam"] = "plaintext"
    region: str | None = None  # msk_iam token region; default: the AWS environment's
    ca_location: str | None = None  # CA bundle for TLS; default: the system's
    batch_size: int = Field(default=5000, ge=1)  # records per Iceberg commit at most
    max_latency_seconds: float = Field(default=5.0, gt=0)  # a record waits at most this long
    client: dict[str, str | int | float | bool] = Field(default_factory=dict)  # librdkafka


class SourceConfig(_Strict):
    entity: Literal["customer", "product", "event"]
    format: Literal["csv", "jsonl", "parquet", "kafka"]
    path: str | None = Field(
        default=None, description="glob under the landing folder (or s3 prefix), e.g. crm/*.csv"
    )
    s3: S3Location | None = None  # landing files in S3 instead of the landing folder
    stream: StreamSettings | None = None  # format kafka: where and how to consume
    contract: Path | None = None  # JSON Schema (.json) or Avro schema (.avsc), relative to file
    key: str = Field(description="the column holding the source's own record key")
    required: list[str] = Field(default_factory=list)
    updated_at: str | None = None  # column telling when the source last changed the record
    default_region: str = "GB"  # phone numbers without a country code
    dayfirst: bool = True  # how to read ambiguous dates such as 03/04/1980
    csv: CsvOptions = CsvOptions()
    # A landing file lands once unchanged (size, mtime) for this long; younger files are
    # watched for up to this long (when short) or left for the next run as "not yet settled".
    settle_seconds: float = Field(default=1.0, ge=0)
    # A marker the source writes when a delivery is complete: "_SUCCESS" (a file in the
    # landing file's folder) or "{name}.done" (one per landing file); None: no marker.
    ready_marker: str | None = None
    mapping: dict[str, str] = Field(description="canonical attribute -> source column")
    event: EventSettings | None = None
    # At most one record of this source per master (a catalogue, a CRM without duplicates):
    # its records never share a master and are never compared with each other.
    one_per_master: bool = False


class ComparisonConfig(_Strict):
    """One Splink comparison: a `splink.comparison_library` comparison, or one of e360's own
    (`model_number`, `token_jaccard`) from `matching.comparisons` or (`person_name`,
    `birth_date`, `address`, `company_name`) from `matching.customer_comparisons`."""

    type: Literal[
        "exact",
        "name",
        "forename_surname",
        "email",
        "date_of_birth",
        "postcode",
        "levenshtein",
        "damerau_levenshtein",
        "jaro_winkler",
        "jaccard",
        "model_number",
        "token_jaccard",
        "weighted_tokens",
        "units",
        "embedding_cosine",
        # matching.customer_comparisons, each on its `columns` in order:
        "person_name",  # [name, the other name part, its phonetic key]
        "birth_date",  # [date]
        "address",  # [address_line1, postcode, city, postcode_area]
        "company_name",  # [company_name, company_name_tokens]
    ]
    column: str | None = None
    columns: list[str] | None = None  # forename_surname takes [forename, surname]
    term_frequency: bool = False
    params: dict[str, Any] = Field(default_factory=dict)
    # Domain knowledge that EM must not overrule, one value per non-null level (best first):
    # e.g. a GTIN match or mismatch, which EM can confuse with look-alike variants.
    m_probabilities: list[Probability] | None = None

    @property
    def input_columns(self) -> list[str]:
        return list(self.columns or ([self.column] if self.column else []))


class TrainingConfig(_Strict):
    deterministic_rules: list[BlockingRule]
    recall: Probability = 0.7
    em_blocking_rules: list[BlockingRule]
    u_max_pairs: float = Field(default=1e6, gt=0)
    seed: int = 42


class MatchingConfig(_Strict):
    blocking_rules: list[BlockingRule] = Field(min_length=1)
    comparisons: list[ComparisonConfig] = Field(min_length=1)
    training: TrainingConfig
    # A number, or `auto`: chosen from the scored pairs (matching.thresholds); with `auto`
    # the review band is kept below whatever threshold is chosen.
    threshold: Probability | Literal["auto"] = 0.9
    review_band: tuple[Probability, Probability] = (0.5, 0.9)
    # Pairs below this probability are not stored: they are the bulk of blocked pairs and
    # nobody reviews them.
    pairs_min_probability: Probability = 0.05
    # Pairs scoring below this are clear non-matches: clustering never puts them together,
    # however the links around them chain (None: plain connected components).
    cannot_link_below: Probability | None = 0.01
    # Pairs one blocking rule may add: counted before predicting (matching.blocking), a rule
    # over it is left out and named. 50M pairs is minutes on one machine; beyond that a rule
    # is not blocking.
    max_comparisons: int = Field(default=50_000_000, ge=1)

    @field_validator("review_band")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] > value[1]:
            raise ValueError("the lower bound must not exceed the upper bound")
        return value


class CustomRule(_Strict):
    """A SQL expression over a member record's columns: the member scoring highest (or
    lowest) wins, e.g. `case when email like '%@example.com' then 0 else 1 end`."""

    expression: str = Field(min_length=1)
    descending: bool = True


SurvivorshipRule = SurvivorshipRuleName | CustomRule


class SurvivorshipConfig(_Strict):
    default: SurvivorshipRuleName = "most_recent"
    source_priority: list[str] = Field(default_factory=list)
    attributes: dict[str, SurvivorshipRule] = Field(default_factory=dict)

    def rule_for(self, attribute: str) -> SurvivorshipRule:
        return self.attributes.get(attribute, self.default)


class EntityConfig(_Strict):
    id_prefix: str | None = Field(default=None, pattern=r"^[A-Z]{2,5}$")
    matching: MatchingConfig
    # Pin a trained model version (`e360 train` makes new ones); None: the newest that fits.
    model_version: int | None = Field(default=None, ge=1)
    survivorship: SurvivorshipConfig = SurvivorshipConfig()


class EvaluationSettings(_Strict):
    """Ground truth files (source,source_key,entity_id) scored against the masters of a run.

    Only evaluation reads them; matching never does.
    """

    truth: dict[Literal["customer", "product"], Path] = Field(default_factory=dict)


class QualitySettings(_Strict):
    """Limits the pipeline's checks enforce; a breach stops the run before anything publishes."""

    max_quarantine_rate: Probability = 0.05  # per source and ingest
    max_id_churn: Probability = 0.2  # share of carried-over records whose master id changed
    freshness_hours: float = Field(default=36, gt=0)  # raw data older than this warns
    schedule: str = "0 2 * * *"  # the daily run of batch sources (cron, UTC)


class StewardshipSettings(_Strict):
    """Where steward decisions live: SQLite beside the project by default, RDS in production."""

    url: str | None = None  # a SQLAlchemy URL; the password comes from the environment
    # The steward app (`e360 steward serve`): `local` users with hashed passwords, or the
    # identity an AWS Application Load Balancer puts in its OIDC headers.
    auth: Literal["local", "alb_oidc"] = "local"
    # The environment variable holding the session-signing secret (required in production;
    # embedded, a key file beside the SQLite store is created on first use).
    session_secret_env: str = "E360_STEWARD_SESSION_SECRET"
    session_max_age_hours: float = Field(default=8, gt=0)
    secure_cookies: bool = False  # True behind HTTPS (the load balancer terminates TLS)
    oidc_identity_header: str = "x-amzn-oidc-identity"
    oidc_data_header: str = "x-amzn-oidc-data"
    oidc_signer: str | None = None  # the ALB's ARN: the `signer` the token header must name
    oidc_issuer: str | None = None  # the identity provider's issuer URL, when it must match
    oidc_username_claim: str = "email"  # which claim names the user in the audit trail
    # PEM public keys of the ALB, one `<kid>.pem` per key id: signatures are verified when set.
    oidc_key_dir: Path | None = None
    # The role of an OIDC identity signing in for the first time (none: refused until an
    # admin registers it).
    oidc_default_role: Literal["none", "viewer", "steward"] = "viewer"


class E360Config(_Strict):
    project: ProjectSettings = ProjectSettings()
    paths: PathSettings = PathSettings()
    deployment: DeploymentSettings = DeploymentSettings()
    sources: dict[str, SourceConfig] = Field(min_length=1)
    entities: dict[Literal["customer", "product"], EntityConfig]
    evaluation: EvaluationSettings = EvaluationSettings()
    quality: QualitySettings = QualitySettings()
    stewardship: StewardshipSettings = StewardshipSettings()

    _file: Path = PrivateAttr(default=Path("e360.yaml"))
    _fingerprint: str = PrivateAttr(default="")
    _overrides: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> Path:
        return self._file

    @property
    def overrides(self) -> dict[str, Any]:
        """The explicit overrides it was loaded with (to load it again the same way)."""
        return dict(self._overrides)

    @property
    def fingerprint(self) -> str:
        """A hash of the effective configuration: runs record it to be reproducible."""
        return self._fingerprint

    @property
    def root(self) -> Path:
        root = self.project.root
        return root if root.is_absolute() else (self._file.parent / root).resolve()

    def _under_root(self, path: Path) -> Path:
        return path if path.is_absolute() else self.root / path

    @property
    def landing_dir(self) -> Path:
        return self._under_root(self.paths.landing)

    @property
    def lake_dir(self) -> Path:
        return self._under_root(self.paths.lake)

    @property
    def runs_dir(self) -> Path:
        return self._under_root(self.paths.runs)

    @property
    def models_dir(self) -> Path:
        return self._under_root(self.paths.models)

    @property
    def lock_file(self) -> Path:
        """The project lock: in the lake folder, or the project root when the lake is remote."""
        settings = self.deployment.lock
        if settings.path is not None:
            return self._under_root(settings.path)
        if self.deployment.catalog.type == "sql":
            return self.lake_dir / ".e360.lock"
        return self.root / ".e360.lock"

    @property
    def warehouse_path(self) -> Path:
        return self._under_root(self.deployment.warehouse.path)

    @property
    def steward_store_url(self) -> str:
        url = self.stewardship.url
        if url is None:
            return f"sqlite:///{self.root / 'steward' / 'steward.db'}"
        return os.path.expandvars(url)  # e.g. postgresql://e360:${E360_STEWARD_PASSWORD}@...

    def truth_file(self, entity: str) -> Path | None:
        path = self.evaluation.truth.get(entity)  # type: ignore[call-overload]
        return None if path is None else self._under_root(path)

    def contract_file(self, source: SourceConfig) -> Path | None:
        """A source's contract file; relative paths are relative to the configuration file."""
        if source.contract is None:
            return None
        path = source.contract
        return path if path.is_absolute() else (self._file.parent / path).resolve()

    def sources_of(self, entity: str) -> dict[str, SourceConfig]:
        return {name: s for name, s in self.sources.items() if s.entity == entity}

    def id_prefix(self, entity: str) -> str:
        return self.entities[entity].id_prefix or DEFAULT_ID_PREFIX[entity]  # type: ignore[index]


def load_config(
    path: str | Path,
    *,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> E360Config:
    """Read, override and validate a configuration file.

    `overrides` take dotted keys (`{"project.root": "/tmp/x"}`) and win over the environment,
    which wins over the file. A mistake in an overridden value is blamed on its variable.
    """
    path = Path(path)
    raw = _read_yaml(path)
    env = os.environ if environ is None else environ
    origins: dict[str, str] = {}  # dotted key -> where its value came from, if not the file
    for key, value in env.items():
        if key.startswith(ENV_PREFIX) and len(key) > len(ENV_PREFIX):
            dotted = ".".join(part.lower() for part in key[len(ENV_PREFIX) :].split("__"))
            origin = f"environment variable {key}"
            _set_dotted(raw, dotted, _env_value(origin, value), origin=origin)
            origins[dotted] = origin
    for dotted, value in (overrides or {}).items():
        _set_dotted(raw, dotted, value, origin=f"override {dotted}")
        origins[dotted] = f"override {dotted}"

    try:
        config = E360Config.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_format_validation_error(path, exc, origins)) from None
    config._file = path.resolve()
    config._overrides = dict(overrides or {})
    config._fingerprint = hashlib.sha256(
        json.dumps(raw, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    _check_references(path, config, origins)
    return config


class UniqueKeyLoader(yaml.SafeLoader):
    """YAML's safe loader, refusing a key given twice in one mapping (plain YAML keeps the
    last one silently, so half a section could be ignored unnoticed)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults` then an explicit key: the explicit one wins
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: the base loader reports it
                continue
            if first is not None:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key '{key}' (first given on line {first.start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str) -> Any:
    """YAML text as data, duplicate keys refused: the one parser of e360's YAML files."""
    return yaml.load(text, Loader=UniqueKeyLoader)


def yaml_error_location(exc: yaml.YAMLError) -> str:
    """`line L, column C: ` of a YAML error, when it knows."""
    mark = getattr(exc, "problem_mark", None)
    return f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""


def _env_value(origin: str, value: str) -> Any:
    try:
        return parse_yaml(value)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(
            f"{origin}: not a valid YAML value ({yaml_error_location(exc)}{problem}): "
            f"{value[:80]!r}"
        ) from None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        data = parse_yaml(text)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: {yaml_error_location(exc)}invalid YAML: {problem}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of sections")
    return data


def _set_dotted(data: dict[str, Any], dotted: str, value: Any, *, origin: str) -> None:
    node = data
    parts = dotted.split(".")
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{origin}: {dotted}: '{part}' is not a section")
        node = child
    node[parts[-1]] = value


def _blamed(path: Path, dotted: str, origins: Mapping[str, str]) -> str:
    """Who set `dotted`: the override or environment variable that set it (or a section
    holding it), else the file."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        origin = origins.get(".".join(parts[:end]))
        if origin is not None:
            return origin
    return str(path)


def _format_validation_error(
    path: Path, exc: ValidationError, origins: Mapping[str, str] | None = None
) -> str:
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"]) or "(top level)"
        lines.append(f"{_blamed(path, key, origins or {})}: {key}: {error['msg']}")
    return "\n".join(lines)


def _check_references(
    path: Path, config: E360Config, origins: Mapping[str, str] | None = None
) -> None:
    """Checks across sections that a schema alone cannot express."""
    problems: list[str] = []
    missing_entities = sorted({"customer", "product"} - set(config.entities))
    if missing_entities:
        # The enterprise layer (dim_customer, dim_product, fct_events) needs both masters.
        problems.append(
            f"entities: configure both customer and product (missing {missing_entities})"
        )
    typed_columns = {
        "customer": STANDARDIZED_CUSTOMER_COLUMNS,
        "product": STANDARDIZED_PRODUCT_COLUMNS,
    }
    standardized = {entity: {name for name, _ in cols} for entity, cols in typed_columns.items()}
    for name, source in config.sources.items():
        key = f"sources.{name}"
        if "__" in name or not name.replace("_", "").isalnum() or not name.islower():
            problems.append(f"{key}: source names are lower-case letters, digits and single '_'")
        unknown = sorted(set(source.mapping) - set(CANONICAL_ATTRIBUTES[source.entity]))
        if unknown:
            problems.append(
                f"{key}.mapping: {unknown} are not canonical {source.entity} attributes; "
                f"choose from {list(CANONICAL_ATTRIBUTES[source.entity])}"
            )
        if source.entity == "event":
            problems.extend(_check_event_source(key, source, config))
        elif source.event is not None:
            problems.append(f"{key}.event: only event sources take an event section")
        if source.entity in ("customer", "product") and source.entity not in config.entities:
            problems.append(f"{key}.entity: no entities.{source.entity} section configures it")
        try:
            codecs.lookup(source.csv.encoding)
        except LookupError:
            problems.append(f"{key}.csv.encoding: unknown encoding '{source.csv.encoding}'")
        problems.extend(_check_location(key, source, config))
    for entity, settings in config.entities.items():
        key = f"entities.{entity}"
        for i, comparison in enumerate(settings.matching.comparisons):
            missing = [c for c in comparison.input_columns if c not in standardized[entity]]
            if not comparison.input_columns:
                problems.append(f"{key}.matching.comparisons.{i}: give `column` or `columns`")
            if missing:
                problems.append(
                    f"{key}.matching.comparisons.{i}: {missing} are not standardized {entity} "
                    f"columns; choose from {sorted(standardized[entity])}"
                )
        for attribute in settings.survivorship.attributes:
            if attribute not in CANONICAL_ATTRIBUTES[entity]:
                problems.append(f"{key}.survivorship.attributes.{attribute}: not an attribute")
        for source_name in settings.survivorship.source_priority:
            ranked = config.sources.get(source_name)
            if ranked is None or ranked.entity != entity:
                problems.append(
                    f"{key}.survivorship.source_priority: '{source_name}' is not a {entity} source"
                )
        problems.extend(_check_thresholds(f"{key}.matching", settings.matching))
        problems.extend(_check_sql(key, settings, typed_columns[entity], config.deployment))
    if problems:
        raise ConfigError(
            "\n".join(f"{_blamed(path, p.split(':', 1)[0], origins or {})}: {p}" for p in problems)
        )


def _check_sql(
    key: str, settings: EntityConfig, attributes: Sequence[tuple[str, Any]], deployment: Any
) -> list[str]:
    """Every SQL fragment parses and reads only columns the standardized records have; on the
    DuckDB engine, DuckDB can also plan it (functions exist, types fit)."""
    import pyarrow as pa

    typed = [
        *attributes,
        *((name, pa.string()) for name in RECORD_KEY_COLUMNS),
        ("source_updated_at", pa.timestamp("us")),
        ("_batch_id", pa.string()),
        ("_ingested_at", pa.timestamp("us")),
    ]
    record_columns = {name for name, _ in attributes} | set(RECORD_KEY_COLUMNS)
    member_columns = record_columns | set(RECORD_LINEAGE_COLUMNS)
    binder = DuckDBBinder.for_columns(typed) if deployment.engine.type == "duckdb" else None

    def pair(sql: str) -> str | None:
        problem = pair_rule_problem(sql, record_columns)
        return problem or (binder.pair_rule(sql) if binder else None)

    def record(sql: str, columns: set[str]) -> str | None:
        problem = record_expression_problem(sql, columns)
        return problem or (binder.record_expression(sql) if binder else None)

    problems = []
    matching = settings.matching
    rule_lists = {
        "matching.blocking_rules": matching.blocking_rules,
        "matching.training.deterministic_rules": matching.training.deterministic_rules,
        "matching.training.em_blocking_rules": matching.training.em_blocking_rules,
    }
    for name, rules in rule_lists.items():
        for i, rule in enumerate(rules):
            if isinstance(rule, str):
                found = [(f"{key}.{name}.{i}", pair(rule))]
            else:
                found = [
                    (f"{key}.{name}.{i}.{j}", record(part, record_columns))
                    for j, part in enumerate(rule)
                ]
            problems.extend(f"{where}: {problem}" for where, problem in found if problem)
    for attribute, rule in settings.survivorship.attributes.items():
        if isinstance(rule, CustomRule):
            problem = record(rule.expression, member_columns)
            if problem:
                problems.append(f"{key}.survivorship.attributes.{attribute}.expression: {problem}")
    return problems


def _check_thresholds(key: str, matching: MatchingConfig) -> list[str]:
    """The probabilities must nest: stored pairs <= review band <= match threshold."""
    problems = []
    low, high = matching.review_band
    if matching.threshold != "auto" and high > matching.threshold:
        problems.append(
            f"{key}.review_band: the band {[low, high]} must lie below the match threshold "
            f"{matching.threshold}"
        )
    if matching.pairs_min_probability > low:
        problems.append(
            f"{key}.pairs_min_probability: {matching.pairs_min_probability} would drop pairs "
            f"of the review band, which starts at {low}"
        )
    if matching.cannot_link_below is not None and matching.cannot_link_below >= low:
        problems.append(
            f"{key}.cannot_link_below: {matching.cannot_link_below} must stay below the review "
            f"band ({low}): only clear non-matches may keep records apart"
        )
    return problems


def _check_location(key: str, source: SourceConfig, config: E360Config) -> list[str]:
    """Where a source is read from: files (landing folder or S3) or a Kafka stream."""
    problems = []
    if source.format == "kafka":
        if source.stream is None:
            problems.append(f"{key}.stream: kafka sources need a stream section (topics, ...)")
        if source.path is not None or source.s3 is not None:
            problems.append(f"{key}: kafka sources take no path or s3 section")
        avro = source.stream is not None and source.stream.value_format == "avro"
        if avro and (source.contract is None or source.contract.suffix != ".avsc"):
            problems.append(f"{key}.contract: avro values need an Avro schema (.avsc)")
    else:
        if source.path is None:
            problems.append(f"{key}.path: Field required for {source.format} sources")
        if source.stream is not None:
            problems.append(f"{key}.stream: only kafka sources take a stream section")
    if source.contract is not None:
        contract = config.contract_file(source)
        if contract is None or not contract.is_file():
            problems.append(f"{key}.contract: file not found: {contract}")
        elif contract.suffix not in (".json", ".avsc"):
            problems.append(f"{key}.contract: use a JSON Schema (.json) or Avro schema (.avsc)")
    return problems


def _check_event_source(key: str, source: SourceConfig, config: E360Config) -> list[str]:
    event = source.event
    if event is None:
        return [f"{key}.event: event sources need an event section (channel, type or type_map)"]
    problems = []
    if (event.type is None) == (event.type_column is None):
        problems.append(f"{key}.event: give exactly one of `type` or `type_column`")
    if event.type is not None and event.type not in CONFORMED_EVENT_TYPES:
        problems.append(f"{key}.event.type: '{event.type}' is not one of {CONFORMED_EVENT_TYPES}")
    for attr, ref_entity in (("customer_source", "customer"), ("product_source", "product")):
        ref = getattr(event, attr)
        if ref is None:
            continue
        referenced = config.sources.get(ref)
        if referenced is None or referenced.entity != ref_entity:
            problems.append(f"{key}.event.{attr}: '{ref}' is not a {ref_entity} source")
    return problems
