"""Profiles of landing files: the format, encoding and delimiter of each file family, and per
column how complete and unique it is and what its values look like (`kinds`).

A family is the files of one folder that share a format and a name apart from their digits
(`crm_customers_1.csv`, `crm_customers_2.csv`): one source. Files are read by the ingestion
readers themselves (`ingestion.readers.read_file`), with the encoding and delimiter detected
here, so a row the profile counts as readable is one the pipeline lands.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import re
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from e360.config import CsvOptions, SourceConfig
from e360.errors import E360Error
from ingestion.readers import bom_encoding, parse_file
from onboarding.kinds import KINDS, day_first

FileFormat = Literal["csv", "jsonl", "parquet"]
FORMATS: dict[str, FileFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
}
COMPRESSED = (".gz",)
MAX_ROWS = 20_000  # rows profiled per family: enough to see every shape, fast on any file
SAMPLE_VALUES = 5  # example values kept per column, for the comments of e360.yaml
DELIMITERS = (",", ";", "\t", "|")
HEAD_BYTES = 1 << 20  # what encoding and delimiter detection read of a file
SAMPLE_BYTES = 32 << 20  # a larger file is profiled from its beginning
_DIGITS_RE = re.compile(r"[\d]+")
_SEPARATORS_RE = re.compile(r"[_\-. ]+$")


class OnboardingError(E360Error):
    """A landing folder that cannot be profiled (missing, empty, unreadable)."""


@dataclass
class ColumnProfile:
    name: str
    rows: int  # rows profiled
    values: int  # non-empty values among them
    distinct: set[str]
    kinds: dict[str, float]  # kind -> share of the non-empty values it accepts
    examples: list[str]
    mean_length: float
    mean_words: float
    dayfirst: bool | None = None  # what dd/mm dates say, if they say

    @property
    def fill(self) -> float:
        """The share of rows with a value."""
        return self.values / self.rows if self.rows else 0.0

    # Distinct values per value within a file (the lowest over the files): 1.0 when no value
    # repeats in a file. Deliveries may repeat a record; a key is unique in each of them.
    unique: float = 0.0

    def share(self, kind: str) -> float:
        return self.kinds.get(kind, 0.0)


@dataclass
class FamilyProfile:
    """One family of landing files: what a source reads."""

    folder: str  # relative to the landing folder, "" at its top
    pattern: str  # the glob of the family, relative to the landing folder
    name: str  # a proposed source name
    format: FileFormat
    files: list[Path]
    encoding: str | None = None  # None: UTF-8 (or what a byte-order mark says)
    encoding_reason: str = ""
    delimiter: str = ","
    rows: int = 0
    rejected: int = 0  # rows the readers would quarantine
    sampled: bool = False  # profiled from the beginning of a large file only
    columns: list[ColumnProfile] = field(default_factory=list)
    # The profiled rows themselves: what one column says about another row by row (which
    # source an event's reference points into) is lost in the per-column profiles.
    records: list[dict[str, str | None]] = field(default_factory=list, repr=False)

    def column(self, name: str) -> ColumnProfile:
        return next(c for c in self.columns if c.name == name)


def landing_files(landing: Path) -> list[Path]:
    """Every landing file under the folder with a format e360 reads (hidden ones aside)."""
    if not landing.is_dir():
        raise OnboardingError(f"{landing}: no such folder")
    files = [
        path
        for path in sorted(landing.rglob("*"))
        if path.is_file()
        and not any(part.startswith((".", "_")) for part in path.relative_to(landing).parts)
        and _format(path) is not None
    ]
    if not files:
        raise OnboardingError(
            f"{landing}: no CSV, JSON lines or Parquet files found (extensions: "
            f"{', '.join(sorted(FORMATS))}, optionally gzip-compressed)"
        )
    return files


def _format(path: Path) -> FileFormat | None:
    suffixes = [s.lower() for s in path.suffixes]
    while suffixes and suffixes[-1] in COMPRESSED:
        suffixes.pop()
    return FORMATS.get(suffixes[-1]) if suffixes else None


def _stem(path: Path) -> str:
    """The file's name without extensions, digits and trailing separators: its family."""
    name = path.name.split(".")[0]
    return _SEPARATORS_RE.sub("", _DIGITS_RE.sub("", name)).lower()


def families(landing: Path) -> list[FamilyProfile]:
    """The files grouped into families, each with its glob and a source name."""
    groups: dict[tuple[str, FileFormat, str], list[Path]] = {}
    for path in landing_files(landing):
        folder = path.parent.relative_to(landing).as_posix()
        fmt = _format(path)
        assert fmt is not None
        groups.setdefault((folder if folder != "." else "", fmt, _stem(path)), []).append(path)
    per_folder = Counter(folder for folder, _, _ in groups)
    out = []
    for (folder, fmt, stem), paths in groups.items():
        extension = "".join(paths[0].suffixes)
        prefix = f"{folder}/" if folder else ""
        alone = per_folder[folder] == 1 and folder
        pattern = f"{prefix}*{extension}" if alone else f"{prefix}{stem}*{extension}"
        name = _source_name(folder.split("/")[-1] if alone else stem or folder)
        out.append(FamilyProfile(folder, pattern, name, fmt, paths))
    return _unique_names(out)


def _source_name(text: str) -> str:
    """A source name: lower-case letters, digits and single '_', starting with a letter."""
    name = re.sub(r"_+", "_", re.sub(r"[^a-z0-9]+", "_", text.lower())).strip("_")
    return name if name[:1].isalpha() else f"source_{name}".rstrip("_")


def _unique_names(found: list[FamilyProfile]) -> list[FamilyProfile]:
    seen: Counter[str] = Counter()
    for family in found:
        seen[family.name] += 1
        if seen[family.name] > 1:
            family.name = f"{family.name}_{seen[family.name]}"
    return found


def detect_encoding(head: bytes) -> tuple[str | None, str]:
    """The encoding of a text file's first bytes and why: None for UTF-8 (e360's default,
    which also honours a byte-order mark), else a single-byte Western encoding."""
    if bom_encoding(head):
        return None, "a byte-order mark names it"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the end of the head is fine
        return None, "every byte sequence is valid UTF-8"
    except UnicodeDecodeError as exc:
        where = f"byte 0x{head[exc.start]:02x} at offset {exc.start} is not UTF-8"
    # 0x80-0x9f are control characters in latin-1 but letters and quotes in Windows-1252.
    if any(0x80 <= b <= 0x9F for b in head):
        try:
            head.decode("cp1252")
            return "cp1252", f"{where}; bytes 0x80-0x9f read as Windows-1252"
        except UnicodeDecodeError:
            pass
    return "latin-1", f"{where}; read as latin-1"


def detect_delimiter(text: str) -> str:
    """The delimiter giving the most rows of one field count (more than one field) on the
    first lines: a delimiter inside quoted fields does not count, csv parses them."""
    lines = text.splitlines()[:200]
    if len(lines) > 1:
        lines = lines[:-1]  # the head may cut its last line
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = Counter(len(row) for row in csv.reader(lines, delimiter=delimiter))
        if not counts:
            continue
        fields, rows = counts.most_common(1)[0]
        score = (rows if fields > 1 else 0, fields)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def profile_family(family: FamilyProfile) -> FamilyProfile:
    """Read the family's files (up to MAX_ROWS rows) and profile every column."""
    options = CsvOptions()
    if family.format == "csv":
        first = family.files[0]
        with gzip.open(first) if first.suffix.lower() in COMPRESSED else first.open("rb") as f:
            head = f.read(HEAD_BYTES)
        family.encoding, family.encoding_reason = detect_encoding(head)
        text = head.decode(family.encoding or "utf-8-sig", errors="replace")
        family.delimiter = detect_delimiter(text)
        options = CsvOptions(
            delimiter=family.delimiter, encoding=family.encoding or options.encoding
        )
    reading = SourceConfig(
        entity="customer", format=family.format, key="-", mapping={}, csv=options
    )
    rows: list[dict[str, str | None]] = []
    origins: list[int] = []  # the file of each row
    columns: list[str] = []
    for number, path in enumerate(family.files):
        try:
            with _sampled(path, family.format) as (readable, sampled):
                parsed = parse_file(readable, reading)
        except (OSError, ValueError, pa.ArrowException) as exc:
            raise OnboardingError(f"{path}: cannot read it as {family.format}: {exc}") from None
        family.sampled |= sampled
        family.rejected += len(parsed.rejects)
        columns += [c for c in parsed.columns if c not in columns]
        taken = parsed.rows[: MAX_ROWS - len(rows)]
        rows += taken
        origins += [number] * len(taken)
        if len(rows) >= MAX_ROWS:
            break
    if not columns:
        raise OnboardingError(f"{family.files[0]}: no columns could be read")
    family.rows = len(rows)
    family.records = rows
    family.columns = [
        profile_column(name, [row.get(name) for row in rows], origins) for name in columns
    ]
    return family


@contextmanager
def _sampled(path: Path, fmt: FileFormat) -> Iterator[tuple[Path, bool]]:
    """The file, or for a large one a copy of its beginning (whole lines; for Parquet its
    first MAX_ROWS rows): a profile needs no more, and reading all of it could take long."""
    if path.stat().st_size <= SAMPLE_BYTES or path.suffix.lower() in COMPRESSED:
        yield path, False
        return
    with tempfile.TemporaryDirectory(prefix="e360-init-") as folder:
        sample = Path(folder) / path.name
        if fmt == "parquet":
            batch = next(pq.ParquetFile(path).iter_batches(batch_size=MAX_ROWS), None)
            if batch is None:
                yield path, False
                return
            pq.write_table(pa.Table.from_batches([batch]), sample)
        else:
            with path.open("rb") as f:
                head = f.read(SAMPLE_BYTES)
            sample.write_bytes(head[: head.rfind(b"\n") + 1])
        yield sample, True


def profile_column(
    name: str, raw: list[str | None], origins: list[int] | None = None
) -> ColumnProfile:
    """How complete, unique and of which kinds a column's values are (`origins`: the file
    of each value, uniqueness being judged per file)."""
    values = [v.strip() for v in raw if v is not None and v.strip()]
    distinct = set(values)
    per_file: dict[int, list[str]] = {}
    for value, origin in zip(raw, origins or [0] * len(raw), strict=True):
        if value is not None and value.strip():
            per_file.setdefault(origin, []).append(value.strip())
    unique = min((len(set(vs)) / len(vs) for vs in per_file.values()), default=0.0)
    # Kinds are judged on distinct values: a repeated default must not outvote the rest.
    judged = sorted(distinct)[:2000] if len(distinct) > 2000 else sorted(distinct)
    kinds = {
        kind: sum(map(accepts, judged)) / len(judged) if judged else 0.0
        for kind, accepts in KINDS.items()
    }
    votes = [d for d in map(day_first, judged) if d is not None]
    return ColumnProfile(
        name=name,
        rows=len(raw),
        values=len(values),
        distinct=distinct,
        kinds=kinds,
        examples=list(dict.fromkeys(values))[:SAMPLE_VALUES],
        mean_length=sum(map(len, values)) / len(values) if values else 0.0,
        mean_words=sum(len(v.split()) for v in values) / len(values) if values else 0.0,
        dayfirst=(sum(votes) > len(votes) / 2) if votes else None,
        unique=unique,
    )


def profile_landing(landing: Path) -> list[FamilyProfile]:
    """Every family of the landing folder, profiled."""
    return [profile_family(family) for family in families(landing)]
