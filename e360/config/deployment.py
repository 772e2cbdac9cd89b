"""`deployment`: where the project runs: the lake catalog, the matching engine, the warehouse
dbt builds in, and the project lock."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from e360.config.base import Section


class CatalogSettings(Section):
    """Embedded: an Iceberg SQL catalog on SQLite. Production: AWS Glue with an S3 warehouse."""

    type: Literal["sql", "glue"] = "sql"
    """`sql`: an embedded Iceberg SQL catalog (SQLite); `glue`: AWS Glue."""
    uri: str | None = None
    """The SQL catalog's URL; default: a SQLite file inside the lake folder."""
    warehouse: str | None = None
    """Where table data lives; default: `<lake>/warehouse`; `s3://bucket/prefix` in production."""
    properties: dict[str, str] = Field(default_factory=dict)
    """Further pyiceberg catalog properties (e.g. `glue.region`, `s3.endpoint`)."""


class EngineSettings(Section):
    type: Literal["duckdb", "spark"] = "duckdb"
    """The matching engine: DuckDB in one process, or Spark (local or a cluster)."""
    threads: int | None = Field(default=None, ge=1)
    """Threads the engine may use; default: every core."""
    udf_workers: int | None = Field(default=None, ge=0)
    """DuckDB: processes the standardisers' Python runs in, so it uses more than one core;
    default: one per engine thread when there are two or more, 0: in the engine's own
    process. Spark runs its UDFs in its executors' workers and ignores this."""
    memory_limit: str | None = None
    """DuckDB's memory limit, e.g. `8GB`, beyond which it spills to `spill_dir`; default: a
    quarter of the machine's memory (DuckDB's own default, 80%, leaves nothing for the Arrow
    tables the process holds beside it). Spark sizes memory through `spark_conf`."""
    spark_conf: dict[str, str] = Field(default_factory=dict)
    """Spark settings for `type: spark` (`spark.master`, executor sizes, ...)."""
    checkpoint_dir: str | None = None
    """Spark checkpoints; default: `<root>/spark-checkpoints`."""
    spill_dir: str | None = None
    """Where DuckDB spills what exceeds `memory_limit`; default: `<root>/duckdb-spill`."""


class PostgresWarehouse(Section):
    """A PostgreSQL warehouse (the master zone is loaded with COPY); no password in the file."""

    host: str = "127.0.0.1"
    """The server's host name."""
    port: int = Field(default=5432, ge=1, le=65535)
    """The server's port."""
    dbname: str = "e360"
    """The database dbt builds in."""
    user: str = "e360"
    """The user e360 signs in as."""
    password_env: str = "E360_PG_PASSWORD"
    """The environment variable holding the password."""


class RedshiftWarehouse(Section):
    """Amazon Redshift: the pinned snapshot goes to S3 as Parquet, then `COPY ... FORMAT PARQUET`."""

    host: str | None = None
    """The cluster's or workgroup's endpoint host name (required for this target)."""
    port: int = Field(default=5439, ge=1, le=65535)
    """The endpoint's port."""
    dbname: str = "dev"
    """The database dbt builds in."""
    user: str = "e360_publisher"
    """The user e360 publishes as."""
    password_env: str = "E360_REDSHIFT_PASSWORD"
    """The environment variable holding the password."""
    s3_staging: str | None = None
    """`s3://bucket/prefix` the loader writes Parquet under before `COPY`."""
    iam_role_arn: str | None = None
    """The role Redshift assumes to read `s3_staging`."""
    region: str | None = None
    """The AWS region of the cluster and the staging bucket; default: the environment's."""
    reader_roles: list[str] = Field(default_factory=lambda: ["domain_reader"])
    """Database roles granted read access to the enterprise models (domain teams)."""
    steward_roles: list[str] = Field(default_factory=lambda: ["data_steward"])
    """Database roles granted read access to the review and lineage models."""


class WarehouseSettings(Section):
    target: Literal["duckdb", "postgres", "redshift"] = "duckdb"
    """Which warehouse dbt builds in; `e360 publish --target` overrides it."""
    path: Path = Path("warehouse/e360.duckdb")
    """The DuckDB file (duckdb target only), relative to the project root."""
    lake_schema: str = "e360_lake"
    """The schema the master zone is loaded into for dbt to read."""
    postgres: PostgresWarehouse = PostgresWarehouse()
    """The PostgreSQL warehouse (target `postgres`)."""
    redshift: RedshiftWarehouse = RedshiftWarehouse()
    """The Amazon Redshift warehouse (target `redshift`)."""


class LockSettings(Section):
    """The project lock serialising ingest, match and publish on one lake (`e360.locks`)."""

    path: Path | None = None
    """The lock file; default: `<lake>/.e360.lock` on the embedded catalog, `<root>/.e360.lock` on
    Glue.
    """
    wait_seconds: float = Field(default=600, ge=0)
    """How long a command waits for the lock, then exits naming the holder."""


class DeploymentSettings(Section):
    catalog: CatalogSettings = CatalogSettings()
    """The lake's Iceberg catalog."""
    engine: EngineSettings = EngineSettings()
    """The engine matching runs on."""
    warehouse: WarehouseSettings = WarehouseSettings()
    """The warehouse the enterprise layer is published to."""
    lock: LockSettings = LockSettings()
    """The project lock serialising ingest, match and publish."""
