"""The lake: Iceberg tables in zones (namespaces), reached through one catalog interface.

Embedded: an Iceberg SQL catalog on SQLite with a local warehouse folder. Production: the AWS
Glue Data Catalog with an S3 warehouse. Only `Lake.from_config` knows the difference.

Iceberg records absolute locations (catalog, metadata, manifests), so a copied project folder
would go on reading and writing the original's files. The embedded lake therefore keeps the
location it was created at (`lake.json`, its canonical location) and, found anywhere else,
maps every file the catalog names from there to where the lake now is (`RelocatedFileIO`):
a copy reads and writes only its own files, and a copy of a copy too, as all keep naming the
canonical location.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pyarrow as pa
from pyiceberg.catalog import Catalog, load_catalog
from pyiceberg.exceptions import (
    NamespaceAlreadyExistsError,
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.io.pyarrow import PyArrowFileIO

from e360.errors import ConfigError, E360Error

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from e360.config import E360Config

Zone = Literal["raw", "quarantine", "standardized", "master", "conformed"]
ZONES: tuple[Zone, ...] = ("raw", "quarantine", "standardized", "master", "conformed")
# Writers that handle commit conflicts themselves (the stream ingestion re-checks its offsets
# before retrying) switch off pyiceberg's blind retry, which would re-apply a stale ledger.
NO_COMMIT_RETRY = {"commit.retry.num-retries": "0"}
LAKE_MARKER = "lake.json"  # the embedded lake's canonical location
RELOCATED_FROM = "e360.relocated-from"
RELOCATED_TO = "e360.relocated-to"


class LakeError(E360Error):
    """The catalog refused an operation e360 cannot do without (a zone, a table)."""


class Lake:
    """Zones of Iceberg tables; every write is one atomic Iceberg commit."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._refused: dict[str, str] = {}
        for zone in ZONES:
            try:
                catalog.create_namespace(zone)
            except NamespaceAlreadyExistsError:
                pass
            except Exception as exc:  # e.g. Lake Formation: AccessDenied
                # Under Lake Formation the zones' databases are created by the infrastructure
                # and e360's role may not create databases: fine while they exist.
                if not _namespace_exists(catalog, zone):
                    self._refused[zone] = f"{type(exc).__name__}: {exc}"

    @classmethod
    def from_config(cls, config: E360Config) -> Lake:
        settings = config.deployment.catalog
        lake_dir = config.lake_dir
        warehouse = settings.warehouse or (lake_dir / "warehouse").as_uri()
        if settings.type == "sql":
            lake_dir.mkdir(parents=True, exist_ok=True)
            (lake_dir / "warehouse").mkdir(exist_ok=True)
            uri = settings.uri or f"sqlite:///{lake_dir / 'catalog.db'}"
            props = {"type": "sql", "uri": uri, "warehouse": warehouse}
            if settings.uri is None and settings.warehouse is None:
                props.update(relocation(lake_dir))
        else:
            if not settings.warehouse:
                raise ConfigError(
                    f"{config.file}: deployment.catalog.warehouse: the glue catalog needs an "
                    "S3 warehouse (s3://bucket/prefix)"
                )
            props = {"type": "glue", "warehouse": warehouse}
        try:
            catalog = _load_catalog(config.project.name, {**props, **settings.properties})
        except Exception as exc:  # a wrong uri, driver or path: name the setting, no trace
            where = props.get("uri") or props["warehouse"]
            detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise LakeError(
                f"{config.file}: deployment.catalog: cannot open the {settings.type} catalog "
                f"({where}): {detail}"
            ) from exc
        return cls(catalog)

    def create_table(
        self,
        zone: Zone,
        name: str,
        schema: pa.Schema,
        *,
        description: str | None = None,
        properties: dict[str, str] | None = None,
    ) -> Table:
        """The table, created (documented: description, column docs) if it does not exist yet.

        Column comments come from each arrow field's `doc` metadata. Two writers creating the
        same table at once both end up with the one that won.
        """
        table = self.table(zone, name)
        if table is not None:
            return table
        props = dict(properties or {})
        if description:
            # `comment` is what Athena and Spark show; Glue shows its own `Description`.
            props.update({"comment": description, "Description": description})
        try:
            return self.catalog.create_table((zone, name), schema=schema, properties=props)
        except TableAlreadyExistsError:
            return self.catalog.load_table((zone, name))
        except NoSuchNamespaceError:
            raise self._no_zone(zone) from None

    def _no_zone(self, zone: str) -> LakeError:
        why = self._refused.get(zone, "it does not exist")
        return LakeError(
            f"the catalog has no '{zone}' namespace and e360 could not create it ({why}); "
            "create the database (the infrastructure does) or grant e360 CREATE_DATABASE"
        )

    def table(self, zone: Zone, name: str) -> Table | None:
        try:
            return self.catalog.load_table((zone, name))
        except NoSuchTableError:
            return None

    def read(
        self,
        zone: Zone,
        name: str,
        columns: tuple[str, ...] | None = None,
        snapshot_id: int | None = None,
    ) -> pa.Table | None:
        """The table's rows (at a snapshot if given), or None if the table does not exist."""
        table = self.table(zone, name)
        if table is None:
            return None
        scan = table.scan(
            selected_fields=columns or ("*",),
            snapshot_id=snapshot_id,
        )
        return scan.to_arrow()

    def append(
        self,
        zone: Zone,
        name: str,
        data: pa.Table,
        *,
        properties: dict[str, str] | None = None,
        description: str | None = None,
    ) -> int | None:
        """Append rows (widening the table's schema by name); returns the new snapshot id."""
        table = self._ensure(zone, name, data.schema, description)
        table.append(data, snapshot_properties=properties or {})
        return _current_snapshot_id(table)

    def replace(
        self,
        zone: Zone,
        name: str,
        data: pa.Table,
        *,
        properties: dict[str, str] | None = None,
        description: str | None = None,
    ) -> int | None:
        """Replace the table's rows in one commit (derived zones are rebuilt each run)."""
        table = self._ensure(zone, name, data.schema, description)
        with warnings.catch_warnings():
            # pyiceberg warns when the overwrite's delete finds no rows: an empty table is fine.
            warnings.filterwarnings("ignore", "Delete operation did not match any records")
            table.overwrite(data, snapshot_properties=properties or {})
        return _current_snapshot_id(table)

    def snapshot_summaries(self, zone: Zone, name: str) -> Iterator[dict[str, str]]:
        """Summary properties of every snapshot, oldest first (ingestion keeps its ledger here)."""
        table = self.table(zone, name)
        if table is None:
            return
        for snapshot in table.snapshots():
            if snapshot.summary is not None:
                yield dict(snapshot.summary.additional_properties)

    def current_snapshot_id(self, zone: Zone, name: str) -> int | None:
        table = self.table(zone, name)
        return None if table is None else _current_snapshot_id(table)

    def _ensure(self, zone: Zone, name: str, schema: pa.Schema, description: str | None) -> Table:
        table = self.table(zone, name)
        if table is None:
            return self.create_table(zone, name, schema, description=description)
        if _has_new_fields(table, schema):
            with table.update_schema() as update:
                update.union_by_name(schema)
            table = self.catalog.load_table((zone, name))
        return table


class RelocatedFileIO(PyArrowFileIO):
    """Local files named under the lake's canonical folder, read and written where it is now.

    pyiceberg resolves every location it reads, writes or deletes through `parse_location`
    (with the catalog's properties), data files included: mapping it there maps them all.
    """

    @staticmethod
    def parse_location(location: str, properties: Any = None) -> tuple[str, str, str]:
        properties = properties or {}
        scheme, netloc, path = PyArrowFileIO.parse_location(location, properties)
        source, target = properties.get(RELOCATED_FROM), properties.get(RELOCATED_TO)
        under = bool(source) and (path == source or path.startswith(f"{source}/"))
        if scheme == "file" and under and target:
            path = target + path[len(source) :]
        return scheme, netloc, path


def relocation(lake_dir: Path) -> dict[str, str]:
    """Catalog properties for an embedded lake: none where it was created; elsewhere, its
    canonical location (new tables are named there too) and the FileIO mapping it here."""
    # as the default warehouse names it (not resolved: table locations carry this spelling)
    here = str(lake_dir / "warehouse")
    canonical = _canonical_location(lake_dir, here)
    if canonical == here:
        return {}
    return {
        "warehouse": Path(canonical).as_uri(),
        "py-io-impl": f"{RelocatedFileIO.__module__}.{RelocatedFileIO.__qualname__}",
        RELOCATED_FROM: canonical,
        RELOCATED_TO: here,
    }


def _canonical_location(lake_dir: Path, here: str) -> str:
    marker = lake_dir / LAKE_MARKER
    try:
        return str(json.loads(marker.read_text(encoding="utf-8"))["warehouse"])
    except FileNotFoundError:
        pass
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LakeError(
            f"{marker}: unreadable lake location ({exc}); restore or delete it"
        ) from None
    # A lake from before the marker: its catalog tells where its tables were created.
    canonical = _location_in_catalog(lake_dir / "catalog.db") or here
    temporary = marker.with_name(f".{marker.name}.{os.getpid()}")
    temporary.write_text(json.dumps({"warehouse": canonical}), encoding="utf-8")
    os.replace(temporary, marker)  # two first processes write the same content
    return canonical


def _location_in_catalog(catalog_db: Path) -> str | None:
    """The warehouse folder a SQL catalog's tables were created under (`<it>/<zone>/<table>`)."""
    if not catalog_db.exists():
        return None
    try:
        with sqlite3.connect(f"file:{catalog_db}?mode=ro", uri=True) as con:
            row = con.execute(
                "select table_namespace, table_name, metadata_location from iceberg_tables "
                "where metadata_location like 'file:%' limit 1"
            ).fetchone()
    except sqlite3.Error:  # no tables yet
        return None
    if row is None:
        return None
    namespace, name, location = row
    scheme, _, path = PyArrowFileIO.parse_location(location)
    folder, found, _ = path.rpartition(f"/{namespace}/{name}/metadata/")
    return folder if found and scheme == "file" else None


def _load_catalog(name: str, properties: dict[str, str], attempts: int = 5) -> Catalog:
    """The catalog; a SQL catalog that another process is initialising at this moment is
    loaded again: pyiceberg checks for its tables, then creates them, which races between
    processes starting on a new lake (e.g. two consumers of one group), and the loser sees
    "table iceberg_tables already exists"."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            return load_catalog(name, **properties)
        except OperationalError as exc:
            if "already exists" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.1 * (attempt + 1))
    raise AssertionError("unreachable")


def _namespace_exists(catalog: Catalog, zone: str) -> bool:
    try:
        return (zone,) in {tuple(n) for n in catalog.list_namespaces()}
    except Exception:  # a catalog that refuses listing: assume it is there
        return True


def _has_new_fields(table: Table, schema: pa.Schema) -> bool:
    known = {field.name for field in table.schema().fields}
    return any(name not in known for name in schema.names)


def _current_snapshot_id(table: Table) -> int | None:
    snapshot = table.current_snapshot()
    return None if snapshot is None else snapshot.snapshot_id
