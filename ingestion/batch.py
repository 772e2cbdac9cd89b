"""Batch ingestion: landing files -> `raw.<source>__<entity>` and `quarantine.<source>`.

Exactly once per file: a file's identity is the SHA-256 of its bytes (and, for S3 objects,
bucket/key/ETag), recorded in the summary of the very Iceberg snapshot that lands it. A file already recorded is skipped, so re-running
an ingest (or re-delivering a file under another name) lands nothing twice; a crash between
two commits leaves a file either landed whole or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from pyiceberg.expressions import EqualTo, Reference
from pyiceberg.expressions.literals import literal

from e360.config import SourceConfig
from e360.errors import IngestError
from e360.lake import Lake, Zone
from e360.mappings import mapped_columns
from e360.zones import quarantine_table_name, raw_table_name
from ingestion.deliveries import deliveries, file_sha256, settled
from ingestion.readers import read_file, sorted_rejects
from ingestion.rows import FileRows, Reject, payload_hashes, raws, stripped

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
    # A landing file seen before under its name with other bytes (edited in place, or first
    # picked up unfinished) lands only its new and changed rows: rows_in = landed +
    # quarantined + unchanged.
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    duplicate_keys: int = 0  # later rows of a key already in the same file (quarantined)
    files: list[str] = field(default_factory=list)
    unsettled: list[str] = field(default_factory=list)  # left for the next run
    notes: list[str] = field(default_factory=list)  # warnings for the run summary

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


ProgressCallback = Callable[[str, int], None]


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
    quarantined_files = _ledger(lake, "quarantine", quarantine_table_name(name))
    found = deliveries(source, landing_dir)
    result.files_found = len(found)
    if not found:
        _nothing_found(name, source, landing_dir, bool(landed_files or quarantined_files), result)
    ready, result.unsettled = settled(found, source)
    landed_names = _file_names(lake, "raw", table)
    quarantined_names = _file_names(lake, "quarantine", quarantine_table_name(name))
    columns = _raw_columns(lake, table)
    for delivery in ready:
        relative = delivery.name
        if delivery.identity is not None and _done(
            delivery.identity, landed_files, quarantined_files
        ):
            result.files_skipped += 1
            continue
        try:
            with delivery.open() as path:
                digest = file_sha256(path)
                done_in_quarantine = quarantined_files.get(digest)
                if _done(digest, landed_files, quarantined_files):
                    result.files_skipped += 1
                    continue
                landed_files[digest] = -1  # the same bytes twice in one batch land once
                rows = read_file(path, source)
        except FileNotFoundError:
            # Moved away by the source since the listing: nothing of it lands, the next run
            # sees what is there then.
            result.unsettled.append(f"{relative} (gone before it was read)")
            continue
        rows = conform_columns(name, source, relative, rows, columns)
        rows, duplicates = _first_of_each_key(rows, source.key)
        hashes = payload_hashes(rows)
        rows_in = rows.rows_in
        unchanged = 0
        seen_before = relative in landed_names or relative in quarantined_names
        if seen_before:
            # Rejects of these very bytes already in quarantine (a crash before the raw
            # commit) are skipped below and still count as quarantined.
            rows, hashes, unchanged, changed = _changed_rows(
                lake, name, table, source.key, relative, rows, hashes, done_in_quarantine is None
            )
            result.changed += changed
            result.notes.append(
                f"{relative}: changed since it last landed: {rows.count - changed} new, "
                f"{changed} changed, {unchanged} unchanged row(s)"
            )
        ingested_at = datetime.now(UTC).replace(tzinfo=None)
        ledger = {
            FILE_HASH_PROPERTY: digest,
            FILE_NAME_PROPERTY: relative,
            FILE_LANDED_PROPERTY: str(rows.count),
            FILE_QUARANTINED_PROPERTY: str(len(rows.rejects)),
            BATCH_PROPERTY: batch_id,
        }
        if delivery.identity is not None:
            ledger[FILE_IDENTITY_PROPERTY] = delivery.identity
        # Quarantine first: if the raw commit then fails, a rerun lands the good rows without
        # quarantining the bad ones a second time.
        to_quarantine = bool(rows.rejects) and done_in_quarantine is None
        to_raw = rows.count > 0 or relative in landed_names
        if seen_before and not (to_quarantine or to_raw):
            to_quarantine = True  # nothing new in an edited file: its bytes are still recorded
        if to_quarantine:
            lake.append(
                "quarantine",
                quarantine_table_name(name),
                _quarantine_table(name, batch_id, ingested_at, relative, rows.rejects),
                properties=ledger,
                description=f"Records of source '{name}' that failed parsing or their contract",
            )
        if to_raw:
            # An edited file with nothing new still commits (no rows): its bytes are recorded.
            lake.append(
                "raw",
                table,
                _raw_table(name, batch_id, ingested_at, relative, rows, hashes),
                properties=ledger,
                description=f"Raw {source.entity} records of source '{name}', as received",
            )
            landed_names.add(relative)
            columns = _raw_columns(lake, table)
        if to_quarantine:
            quarantined_names.add(relative)
        result.files_ingested += 1
        result.files.append(relative)
        result.rows_in += rows_in
        result.landed += rows.count
        result.quarantined += len(rows.rejects)
        result.unchanged += unchanged
        result.duplicate_keys += len(duplicates)
        if duplicates:
            shown = ", ".join(f"'{k}'" for k in duplicates[:5])
            more = f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else ""
            result.notes.append(
                f"{relative}: {len(duplicates)} later row(s) of keys already in the file "
                f"quarantined (keys {shown}{more})"
            )
        if on_file is not None:
            on_file(relative, rows_in)
    result.new = result.landed - result.changed
    if result.unsettled:
        result.notes.append(
            f"{len(result.unsettled)} file(s) left for the next run: {', '.join(result.unsettled)}"
        )
    return result


def _nothing_found(
    name: str, source: SourceConfig, landing_dir: Path, landed_before: bool, result: SourceIngest
) -> None:
    """A glob matching nothing: an error for a source that never landed a file, else a note."""
    where = (
        f"s3://{source.s3.bucket}/{source.s3.prefix}" if source.s3 is not None else str(landing_dir)
    )
    message = f"source '{name}': no landing file matches '{source.path or '*'}' under {where}"
    if not landed_before:
        raise IngestError(message)
    result.notes.append(message + " (files landed before; nothing new)")


def _column_uses(source: SourceConfig) -> list[tuple[str, str]]:
    """(setting, file column) for every column the source's configuration names."""
    uses = [("key", source.key)] + [("required", c) for c in source.required]
    uses += [(f"mapping.{attr}", column) for attr, column in mapped_columns(source.mapping)]
    if source.updated_at:
        uses.append(("updated_at", source.updated_at))
    event = source.event
    if event is not None:
        named = {
            "event.type_column": event.type_column,
            "event.customer_source_column": event.customer_source_column,
            "event.product_source_column": event.product_source_column,
        }
        uses += [(setting, column) for setting, column in named.items() if column]
    return uses


def conform_columns(
    name: str, source: SourceConfig, file: str, rows: FileRows, landed: list[str]
) -> FileRows:
    """A file's rows with the columns the configuration names checked (`IngestError` naming
    the file when one is missing) and spelt as configured (or as landed before)."""
    _check_columns(name, source, file, rows, landed)
    return _align_case(rows, [*landed, *(c for _, c in _column_uses(source))])


def _check_columns(
    name: str, source: SourceConfig, file: str, rows: FileRows, landed: list[str]
) -> None:
    """A column the configuration names must be in the file: otherwise every value is null.

    A JSON Lines file names only the fields its records carry, so there a column landed
    from an earlier file also counts. A file quarantined whole (no columns) is not checked.
    """
    if not rows.columns:
        return
    have = {c.casefold() for c in rows.columns}
    if source.format == "jsonl":
        have |= {c.casefold() for c in landed}
    for use, column in _column_uses(source):
        if column.casefold() not in have:
            raise IngestError(
                f"source '{name}': {use} names column '{column}', which {file} does not have; "
                f"its columns: {', '.join(rows.columns)}"
            )


def _align_case(rows: FileRows, preferred: list[str]) -> FileRows:
    """Rename columns differing only in case from a configured or landed one to that name."""
    spelling: dict[str, str] = {}
    for column in preferred:
        spelling.setdefault(column.casefold(), column)
    rename = {c: spelling[c.casefold()] for c in rows.columns if spelling.get(c.casefold(), c) != c}
    if not rename:
        return rows
    return rows.renamed(rename)


def _first_of_each_key(rows: FileRows, key: str) -> tuple[FileRows, list[str]]:
    """A key lands once per file: its first row; later rows go to quarantine, named.

    A file is one delivery of the source's records, so a key twice in it is a source defect;
    the later rows keep their bytes and the row of the first in their reason.
    """
    keys = stripped(rows.column(key))  # keys are compared as standardisation does
    if pc.count_distinct(keys).as_py() == rows.count:  # the usual file: every key once
        return replace(rows, rejects=sorted_rejects(rows.rejects)), []
    index = pa.array(range(rows.count), pa.int64())
    firsts = (
        pa.table({"k": keys, "i": index}).group_by("k", use_threads=False).aggregate([("i", "min")])
    )
    first_of = pa.table({"k": keys, "i": index}).join(firsts, "k").sort_by("i")
    first_index = first_of.column("i_min").combine_chunks()
    later = pc.not_equal(first_index, index)
    at = pc.indices_nonzero(later).to_pylist()
    earlier = first_index.filter(later).to_pylist()
    later_rows = rows.dicts(at)
    earlier_rows = rows.dicts(earlier)
    numbers = rows.numbers.to_pylist()
    dup_keys = keys.filter(later).to_pylist()
    rejects = list(rows.rejects)
    duplicates: list[str] = []
    for i, first, values, first_values, value, raw in zip(
        at, earlier, later_rows, earlier_rows, dup_keys, raws(rows, at), strict=True
    ):
        same = "identical to" if first_values == values else "differs from"
        reason = f"duplicate key '{value}' in this file ({same} row {numbers[first]})"
        rejects.append(Reject(numbers[i], raw, reason))
        if value not in duplicates:
            duplicates.append(value)
    kept = rows.filter(pc.invert(later))
    kept.rejects = sorted_rejects(rejects)
    return kept, duplicates


def _changed_rows(
    lake: Lake,
    source: str,
    table: str,
    key: str,
    file: str,
    rows: FileRows,
    hashes: pa.Array,
    compare_rejects: bool = True,
) -> tuple[FileRows, pa.Array, int, int]:
    """Of a file landed before under this name, the rows new or changed since.

    Returns those rows and their hashes, the count of unchanged rows (good rows the lake
    holds already, and rejects already in quarantine) and the count of changed rows.
    """
    held = _file_table(lake, "raw", table, file, (key, "_payload_hash"))
    keys = stripped(rows.column(key))
    if held is None:
        held_keys, held_versions = pa.array([], pa.string()), pa.array([], pa.string())
    else:
        held_keys = stripped(held.column(key).combine_chunks().cast(pa.string()))
        held_hashes = held.column("_payload_hash").combine_chunks().cast(pa.string())
        # A hash is 64 hex digits: hash then key tells every (key, hash) pair apart.
        held_versions = pc.binary_join_element_wise(held_hashes, held_keys, "")
    versions = pc.binary_join_element_wise(hashes, keys, "")
    unchanged_rows = pc.fill_null(pc.is_in(versions, value_set=held_versions), False)
    known = pc.is_in(keys, value_set=held_keys)
    keep = pc.invert(unchanged_rows)
    unchanged = pc.sum(unchanged_rows.cast(pa.int64())).as_py() or 0
    changed = pc.sum(pc.and_(known, keep).cast(pa.int64())).as_py() or 0
    kept = rows.filter(keep)
    kept_hashes = hashes.filter(keep)
    if not compare_rejects:
        kept.rejects = list(rows.rejects)
        return kept, kept_hashes, unchanged, changed
    quarantined = {
        (r["_raw"], r["_reason"])
        for r in _file_rows(
            lake, "quarantine", quarantine_table_name(source), file, ("_raw", "_reason")
        )
    }
    kept.rejects = []
    for reject in rows.rejects:
        if (reject.raw, reject.reason) in quarantined:
            unchanged += 1
        else:
            kept.rejects.append(reject)
    return kept, kept_hashes, unchanged, changed


def _file_rows(
    lake: Lake, zone: Zone, table: str, file: str, columns: tuple[str, ...]
) -> list[dict[str, str | None]]:
    found = _file_table(lake, zone, table, file, columns)
    return [] if found is None else found.to_pylist()


def _file_table(
    lake: Lake, zone: Zone, table: str, file: str, columns: tuple[str, ...]
) -> pa.Table | None:
    """These columns of the rows a table holds from one file (None: none, or no such column)."""
    found = lake.table(zone, table)
    if found is None or found.current_snapshot() is None:
        return None
    present = {f.name for f in found.schema().fields}
    if not set(columns) <= present:
        return None
    scan = found.scan(
        row_filter=EqualTo(term=Reference("_file"), value=literal(file)), selected_fields=columns
    )
    return scan.to_arrow()


def _file_names(lake: Lake, zone: Zone, table: str) -> set[str]:
    return {
        summary[FILE_NAME_PROPERTY]
        for summary in lake.snapshot_summaries(zone, table)
        if FILE_NAME_PROPERTY in summary
    }


def _raw_columns(lake: Lake, table: str) -> list[str]:
    found = lake.table("raw", table)
    if found is None:
        return []
    return [f.name for f in found.schema().fields if not f.name.startswith("_")]


def _done(identity: str, landed: dict[str, int], quarantined: dict[str, int]) -> bool:
    """Landed in raw, or wholly quarantined (a file with no good rows has no raw commit)."""
    return identity in landed or quarantined.get(identity) == 0


def latest_delivery(lake: Lake, name: str, source: SourceConfig) -> tuple[int, int]:
    """(rows in, rows quarantined) of the last batch that brought this source new files.

    A quality check judges this, not only the current run: a rerun that lands nothing new
    must see the same bad delivery again rather than an empty, and so passing, batch.
    """
    files: dict[str, dict[str, str]] = {}
    tables: tuple[tuple[Zone, str], ...] = (
        ("raw", raw_table_name(name, source)),
        ("quarantine", quarantine_table_name(name)),
    )
    for zone, table in tables:
        for summary in lake.snapshot_summaries(zone, table):
            if FILE_HASH_PROPERTY in summary:
                files[summary[FILE_HASH_PROPERTY]] = summary
    if not files:
        return 0, 0
    last = max(f.get(BATCH_PROPERTY, "") for f in files.values())
    batch = [f for f in files.values() if f.get(BATCH_PROPERTY, "") == last]
    landed = sum(int(f.get(FILE_LANDED_PROPERTY, "0")) for f in batch)
    quarantined = sum(int(f.get(FILE_QUARANTINED_PROPERTY, "0")) for f in batch)
    return landed + quarantined, quarantined


def _ledger(lake: Lake, zone: Zone, table: str) -> dict[str, int]:
    """File hash (and S3 identity) -> rows landed, from the snapshot summaries of a table."""
    ledger: dict[str, int] = {}
    for summary in lake.snapshot_summaries(zone, table):
        landed = int(summary.get(FILE_LANDED_PROPERTY, "0"))
        for key in (FILE_HASH_PROPERTY, FILE_IDENTITY_PROPERTY):
            if summary.get(key):
                ledger[summary[key]] = landed
    return ledger


def _raw_table(
    source: str,
    batch_id: str,
    ingested_at: datetime,
    file: str,
    rows: FileRows,
    hashes: pa.Array,
) -> pa.Table:
    n = rows.count
    payload = {column: rows.column(column) for column in rows.columns}
    metadata = {
        "_source": pa.repeat(pa.scalar(source, pa.string()), n),
        "_batch_id": pa.repeat(pa.scalar(batch_id, pa.string()), n),
        "_ingested_at": pa.repeat(pa.scalar(ingested_at, pa.timestamp("us")), n),
        "_file": pa.repeat(pa.scalar(file, pa.string()), n),
        "_row": rows.numbers,
        "_payload_hash": hashes,
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
