"""Per warehouse target: how to connect, and the environment dbt's profile reads.

The dbt profile (`dbt_project/profiles.yml`) takes hosts, users and passwords from `E360_*`
environment variables; `dbt_environment` derives them from the configuration, the password
from the variable the configuration names (never from the file).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Literal, Protocol

from e360.config import E360Config
from e360.errors import PublishError

TargetName = Literal["duckdb", "postgres", "redshift"]


class Connection(Protocol):
    """The little the loaders and the publish swap need from a warehouse connection."""

    target: TargetName
    raw: Any  # the driver's own connection, for bulk loads (DuckDB's register, COPY)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...
    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


class DuckDBConnection:
    target: TargetName = "duckdb"

    def __init__(self, path: str) -> None:
        import duckdb

        self.raw = duckdb.connect(path)
        self.raw.execute("begin transaction")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.raw.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.raw.execute(sql, params).fetchall()

    def commit(self) -> None:
        self.raw.execute("commit")
        self.raw.execute("begin transaction")

    def rollback(self) -> None:
        self.raw.execute("rollback")
        self.raw.execute("begin transaction")

    def close(self) -> None:
        self.raw.execute("rollback")
        self.raw.close()


class DbApiConnection:
    """psycopg2 (PostgreSQL) or redshift_connector (Redshift): both open a transaction
    implicitly, so every unit of work here is one transaction until commit."""

    def __init__(self, raw: Any, target: TargetName) -> None:
        self.raw = raw
        self.target = target

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self._cursor() as cursor:
            cursor.execute(sql, params)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        with self._cursor() as cursor:
            cursor.execute(sql, params)
            return list(cursor.fetchall())

    def _cursor(self) -> Any:
        cursor = self.raw.cursor()
        if hasattr(cursor, "__enter__"):
            return cursor
        from contextlib import closing

        return closing(cursor)

    def commit(self) -> None:
        self.raw.commit()

    def rollback(self) -> None:
        self.raw.rollback()

    def close(self) -> None:
        self.raw.close()


def password(env_name: str) -> str:
    return os.environ.get(env_name, "")


def connect(config: E360Config) -> Connection:
    """A connection to the configured warehouse, inside a transaction."""
    settings = config.deployment.warehouse
    try:
        if settings.target == "duckdb":
            path = config.warehouse_path
            path.parent.mkdir(parents=True, exist_ok=True)
            return DuckDBConnection(str(path))
        if settings.target == "postgres":
            import psycopg2

            pg = settings.postgres
            raw = psycopg2.connect(
                host=pg.host,
                port=pg.port,
                dbname=pg.dbname,
                user=pg.user,
                password=password(pg.password_env),
                connect_timeout=10,
            )
            return DbApiConnection(raw, "postgres")
        import redshift_connector

        rs = settings.redshift
        if not rs.host:
            raise PublishError(
                "deployment.warehouse.redshift.host: required for the redshift target"
            )
        raw = redshift_connector.connect(
            host=rs.host,
            port=rs.port,
            database=rs.dbname,
            user=rs.user,
            password=password(rs.password_env),
        )
        return DbApiConnection(raw, "redshift")
    except PublishError:
        raise
    except Exception as exc:  # driver errors name host and reason; keep them, drop the trace
        raise PublishError(
            f"deployment.warehouse.{settings.target}: cannot connect to the warehouse: {exc}"
        ) from exc


def dbt_environment(config: E360Config) -> dict[str, str]:
    """The `E360_*` variables dbt's profile reads for the configured target."""
    settings = config.deployment.warehouse
    if settings.target == "duckdb":
        return {"E360_DUCKDB_PATH": str(config.warehouse_path)}
    if settings.target == "postgres":
        pg = settings.postgres
        return {
            "E360_PG_HOST": pg.host,
            "E360_PG_PORT": str(pg.port),
            "E360_PG_USER": pg.user,
            "E360_PG_PASSWORD": password(pg.password_env),
            "E360_PG_DBNAME": pg.dbname,
        }
    rs = settings.redshift
    return {
        "E360_REDSHIFT_HOST": rs.host or "",
        "E360_REDSHIFT_PORT": str(rs.port),
        "E360_REDSHIFT_USER": rs.user,
        "E360_REDSHIFT_PASSWORD": password(rs.password_env),
        "E360_REDSHIFT_DBNAME": rs.dbname,
    }


def dbt_role_vars(config: E360Config) -> dict[str, Any]:
    """Redshift roles for dbt's grants and masking (the project's defaults elsewhere)."""
    rs = config.deployment.warehouse.redshift
    return {
        "e360_reader_roles": list(rs.reader_roles),
        "e360_steward_roles": list(rs.steward_roles),
        "e360_privileged_roles": sorted({*rs.steward_roles, rs.user}),
    }
