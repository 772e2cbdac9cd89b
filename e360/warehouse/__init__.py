"""The warehouse side of publishing: the pinned master zone loaded where dbt reads it, and the
write-audit-publish swap of the layers dbt builds.

- `targets`: connections and dbt environment per target (duckdb, postgres, redshift);
- `loaders`: the master zone into the lake schema (DuckDB directly, PostgreSQL by COPY,
  Redshift by `COPY ... FORMAT PARQUET` from S3);
- `redshift`: the Redshift SQL the loader generates (COPY, masking policies, schema grants);
- `wap`: preparing the `<schema>__wap` build schemas and swapping them in after the audit.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from e360.lake import Zone
from e360.zones import CONFORMED_EVENTS, PUBLISHED_MASTER_TABLES, master_table_name

# warehouse table -> lake table: what dbt's `e360_lake` sources read
LAKE_TABLES: dict[str, tuple[Zone, str]] = {
    **{
        master_table_name(entity, table): ("master", master_table_name(entity, table))
        for entity in ("customer", "product")
        for table in PUBLISHED_MASTER_TABLES
    },
    CONFORMED_EVENTS: ("conformed", CONFORMED_EVENTS),
}
LOADS_TABLE = "loads"  # the load ledger: which snapshot of which table, for which run


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of the block."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
