"""Batch ingestion: landing files -> `raw.<source>__<entity>` and `quarantine.<source>`.

Exactly once per file: a file's identity is the SHA-256 of its bytes (and, for S3 objects,
bucket/key/ETag), recorded in the summary of the very Iceberg snapshot that lands it. A file already recorded is skipped, so re-running
an ingest (or re-delivering a file under another name) lands nothing twice; a crash between
two commits leaves a file either landed whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

import pyarrow as pa

from e360.config import SourceConfig
from e360.errors import IngestError
from e360.lake import Lake
from ingestion.readers import FileRows, Reject, read_file

FILE_HASH_PROPERTY = "e360.file.sha256"
FILE_NAME_PROPERTY = "e360.file.name"
FILE_IDENTITY_PROPERTY = "e360.file.identity"  # S3: s3://bucket/key#ETag
FILE_LANDED_PROPERTY = "e360.file.landed"
FILE_QUARANTINED_PROPERTY = "e360.file.quarantined"
BATCH_PROPERTY = "e360.batch_id"

QUARANTINE_SCHEMA = pa.schema(
    [
        ("_source", pa.string()),
        ("_batch_id", pa.string()),
        ("_ingested_at", pa.timestamp("us")),
        ("_file", pa.string()),
        ("_row", pa.int64()),
        ("_raw", pa.string()),
        ("_reason", pa.string()),
    ]
)


@dataclass
class SourceIngest:
    """What one source's ingest did; `rows_in == landed + quarantined` always holds."""

    source: str
    entity: str
    files_found: int = 0
    files_ingested: int = 0
    files_skipped: int = 0
    rows_in: int = 0
    landed: int = 0
    quarantined: int = 0
    files: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


ProgressCallback = Callable[[str, int], None]


def raw_table_name(source: str, source_config: SourceConfig) -> str:
    return f"{source}__{source_config.entity}"


@dataclass(frozen=True)
class Delivery:
    """One landing file: its name in the lake, its identity before download, how to read it."""

    name: str
    identity: str | None  # an S3 object's bucket/key/ETag; local files are known by their hash
    open: Callable[[], AbstractContextManager[Path]]


def deliveries(source: SourceConfig, landing_dir: Path) -> list[Delivery]:
    """The source's landing files: under the landing folder, or under its S3 prefix."""
    pattern = source.path or "*"
    if source.s3 is not None:
        from ingestion import s3

        client = s3.s3_client(source.s3)
        return [
            Delivery(obj.uri, obj.identity, partial(s3.fetched, client, obj))
            for obj in s3.list_objects(client, source.s3, pattern)
        ]
    return [
        Delivery(path.relative_to(landing_dir).as_posix(), None, partial(nullcontext, path))
        for path in sorted(landing_dir.glob(pattern))
        if path.is_file()
    ]


def ingest_source(
    lake: Lake,
    name: str,
    source: SourceConfig,
    landing_dir: Path,
    batch_id: str,
    on_file: ProgressCallback | None = None,
) -> SourceIngest:
    if source.format == "kafka":
        raise IngestError(f"source '{name}' is a stream: `e360 ingest --stream {name}` lands it")
    result = SourceIngest(source=name, entity=source.entity)
    table = raw_table_name(name, source)
    landed_files = _ledger(lake, "raw", table)
    quarantined_files = _ledger(lake, "quarantine", name)
    for delivery in deliveries(source, landing_dir):
        result.files_found += 1
        relative = delivery.name
        if delivery.identity is not None and _done(
            delivery.identity, landed_files, quarantined_files
        ):
            result.files_skipped += 1
            continue
        with delivery.open() as path:
            digest = _sha256(path)
            done_in_quarantine = quarantined_files.get(digest)
            if _done(digest, landed_files, quarantined_files):
                result.files_skipped += 1
                continue
            landed_files[digest] = -1  # the same bytes twice in one batch land once
            rows = read_file(path, source)
        ingested_at = datetime.now(UTC).replace(tzinfo=None)
        ledger = {
            FILE_HASH_PROPERTY: digest,
            FILE_NAME_PROPERTY: relative,
            FILE_LANDED_PROPERTY: str(len(rows.rows)),
            FILE_QUARANTINED_PROPERTY: str(len(rows.rejects)),
            BATCH_PROPERTY: batch_id,
        }
        if delivery.identity is not None:
            ledger[FILE_IDENTITY_PROPERTY] = delivery.identity
        # Quarantine first: if the raw commit then fails, a rerun lands the good rows without
        # quarantining the bad ones a second time.
        if rows.rejects and done_in_quarantine is None:
            lake.append(
                "quarantine",
                name,
                _quarantine_table(name, batch_id, ingested_at, relative, rows.rejects),
                properties=ledger,
                description=f"Records of source '{name}' that failed parsing or their contract",
            )
        if rows.rows:
            lake.append(
                "raw",
                table,
                _raw_table(name, batch_id, ingested_at, relative, rows),
                properties=ledger,
                description=f"Raw {source.entity} records of source '{name}', as received",
            )
        result.files_ingested += 1
        result.files.append(relative)
        result.rows_in += rows.rows_in
        result.landed += len(rows.rows)
        result.quarantined += len(rows.rejects)
        if on_file is not None:
            on_file(relative, rows.rows_in)
    return result


def _done(identity: str, landed: dict[str, int], quarantined: dict[str, int]) -> bool:
    """Landed in raw, or wholly quarantined (a file with no good rows has no raw commit)."""
    return identity in landed or quarantined.get(identity) == 0


def latest_delivery(lake: Lake, name: str, source: SourceConfig) -> tuple[int, int]:
    """(rows in, rows quarantined) of the last batch that brought this source new files.

    A quality check judges this, not only the current run: a rerun that lands nothing new
    must see the same bad delivery again rather than an empty, and so passing, batch.
    """
    files: dict[str, dict[str, str]] = {}
    for zone, table in (("raw", raw_table_name(name, source)), ("quarantine", name)):
        for summary in lake.snapshot_summaries(zone, table):  # type: ignore[arg-type]
            if FILE_HASH_PROPERTY in summary:
                files[summary[FILE_HASH_PROPERTY]] = summary
    if not files:
        return 0, 0
    last = max(f.get(BATCH_PROPERTY, "") for f in files.values())
    batch = [f for f in files.values() if f.get(BATCH_PROPERTY, "") == last]
    landed = sum(int(f.get(FILE_LANDED_PROPERTY, "0")) for f in batch)
    quarantined = sum(int(f.get(FILE_QUARANTINED_PROPERTY, "0")) for f in batch)
    return landed + quarantined, quarantined


def _ledger(lake: Lake, zone: str, table: str) -> dict[str, int]:
    """File hash (and S3 identity) -> rows landed, from the snapshot summaries of a table."""
    ledger: dict[str, int] = {}
    for summary in lake.snapshot_summaries(zone, table):  # type: ignore[arg-type]
        landed = int(summary.get(FILE_LANDED_PROPERTY, "0"))
        for key in (FILE_HASH_PROPERTY, FILE_IDENTITY_PROPERTY):
            if summary.get(key):
                ledger[summary[key]] = landed
    return ledger


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _raw_table(
    source: str, batch_id: str, ingested_at: datetime, file: str, rows: FileRows
) -> pa.Table:
    n = len(rows.rows)
    payload = {
        column: pa.array([row.get(column) for row in rows.rows], pa.string())
        for column in rows.columns
    }
    hashes = [
        hashlib.sha256(json.dumps(row, sort_keys=True).encode()).hexdigest() for row in rows.rows
    ]
    metadata = {
        "_source": pa.array([source] * n, pa.string()),
        "_batch_id": pa.array([batch_id] * n, pa.string()),
        "_ingested_at": pa.array([ingested_at] * n, pa.timestamp("us")),
        "_file": pa.array([file] * n, pa.string()),
        "_row": pa.array(rows.row_numbers, pa.int64()),
        "_payload_hash": pa.array(hashes, pa.string()),
    }
    return pa.table({**payload, **metadata})


def _quarantine_table(
    source: str, batch_id: str, ingested_at: datetime, file: str, rejects: list[Reject]
) -> pa.Table:
    n = len(rejects)
    return pa.table(
        [
            pa.array([source] * n, pa.string()),
            pa.array([batch_id] * n, pa.string()),
            pa.array([ingested_at] * n, pa.timestamp("us")),
            pa.array([file] * n, pa.string()),
            pa.array([r.row for r in rejects], pa.int64()),
            pa.array([r.raw for r in rejects], pa.string()),
            pa.array([r.reason for r in rejects], pa.string()),
        ],
        schema=QUARANTINE_SCHEMA,
    )
