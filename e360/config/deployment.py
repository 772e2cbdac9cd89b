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
    uri: str | None = None  # default: sqlite file inside the lake folder
    warehouse: str | None = None  # default: <lake>/warehouse; s3://bucket/prefix in production
    properties: dict[str, str] = Field(default_factory=dict)


class EngineSettings(Section):
    type: Literal["duckdb", "spark"] = "duckdb"
    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = None
    spark_conf: dict[str, str] = Field(default_factory=dict)
    checkpoint_dir: str | None = None  # Spark checkpoints; default <root>/spark-checkpoints


class PostgresWarehouse(Section):
    """A PostgreSQL warehouse (the master zone is loaded with COPY); no password in the file."""

    host: str = "127.0.0.1"
    port: int = Field(default=5432, ge=1, le=65535)
    dbname: str = "e360"
    user: str = "e360"
    password_env: str = "E360_PG_PASSWORD"  # the environment variable holding the password


class RedshiftWarehouse(Section):
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


class WarehouseSettings(Section):
    target: Literal["duckdb", "postgres", "redshift"] = "duckdb"
    path: Path = Path("warehouse/e360.duckdb")  # the DuckDB file (duckdb target only)
    lake_schema: str = "e360_lake"  # where the master zone is loaded for dbt to read
    postgres: PostgresWarehouse = PostgresWarehouse()
    redshift: RedshiftWarehouse = RedshiftWarehouse()


class LockSettings(Section):
    """The project lock serialising ingest, match and publish on one lake (`e360.locks`)."""

    # default: <lake>/.e360.lock on the embedded catalog, <root>/.e360.lock on Glue
    path: Path | None = None
    wait_seconds: float = Field(default=600, ge=0)  # then exit naming the holder


class DeploymentSettings(Section):
    catalog: CatalogSettings = CatalogSettings()
    engine: EngineSettings = EngineSettings()
    warehouse: WarehouseSettings = WarehouseSettings()
    lock: LockSettings = LockSettings()
