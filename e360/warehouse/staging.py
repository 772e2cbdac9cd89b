"""DuckDB publishing into a copy of the warehouse file, swapped in whole when it succeeds.

DuckDB locks its file: a writer cannot open it while any other process has it open, even
read-only. So a publish never opens the published file: it copies it to
`<warehouse>.publishing`, loads the master zone and builds, audits and swaps the layers there
(`wap`), and only then renames the copy over the published file (atomic on one file system).
Readers that have the old file open keep reading the old layer, consistently, until they
reopen; new readers see the new one. Readers should open the file read-only
(`duckdb.connect(path, read_only=True)`): a writable connection to the published file would
write into a file the next publish replaces. A failed publish leaves the published file as it
was; its rejected build stays in `<warehouse>.publishing` for inspection until the next one.

PostgreSQL and Redshift have no file: their schema swap already lets readers read meanwhile.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from e360.config import E360Config
from e360.errors import PublishError

STAGING_SUFFIX = ".publishing"


def _wal(path: Path) -> Path:
    return path.with_name(path.name + ".wal")


def staging_path(config: E360Config) -> Path:
    path = config.warehouse_path
    return path.with_name(path.name + STAGING_SUFFIX)


def _staged(config: E360Config) -> E360Config:
    """The configuration with its DuckDB warehouse at the staging copy."""
    deployment = config.deployment
    warehouse = deployment.warehouse.model_copy(update={"path": staging_path(config)})
    return config.model_copy(
        update={"deployment": deployment.model_copy(update={"warehouse": warehouse})}
    )


def _is_duckdb(config: E360Config) -> bool:
    return config.deployment.warehouse.target == "duckdb"


def start(config: E360Config) -> E360Config:
    """A fresh copy of the published warehouse to publish into (the configuration to use)."""
    if not _is_duckdb(config):
        return config
    published, staged = config.warehouse_path, staging_path(config)
    staged.parent.mkdir(parents=True, exist_ok=True)
    for leftover in (staged, _wal(staged)):
        leftover.unlink(missing_ok=True)
    if published.exists():
        shutil.copyfile(published, staged)
        if _wal(published).exists():  # a writer died before its checkpoint: keep its commits
            shutil.copyfile(_wal(published), _wal(staged))
    return _staged(config)


def resume(config: E360Config) -> E360Config:
    """The copy this publish loaded into (a re-executed build continues on it), else a new one."""
    if _is_duckdb(config) and staging_path(config).exists():
        return _staged(config)
    return start(config)


def finish(config: E360Config) -> None:
    """The staging copy becomes the published warehouse, in one rename."""
    if not _is_duckdb(config):
        return
    import duckdb

    published, staged = config.warehouse_path, staging_path(config)
    if not staged.exists():
        raise PublishError(f"{staged}: the publish's warehouse copy is missing")
    with duckdb.connect(str(staged)) as con:
        con.execute("checkpoint")  # everything in the file itself: no write-ahead log to carry
    # The published file's log (if a writer ever died) was carried into the copy; left beside
    # the new file, DuckDB would replay it there.
    _wal(published).unlink(missing_ok=True)
    os.replace(staged, published)
