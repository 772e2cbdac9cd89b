"""`e360 resolve`: the records of a mapping's files, standardised, scored and clustered.

Writes to the output folder:
- `clusters.parquet` (source, source_key, master_id): every record read, exactly once;
- `rejects.parquet` (source, file, row, reason, raw): every row that could not be read as a
  record (wrong field count, undecodable bytes, a blank key), so that for each source
  rows in = records in clusters.parquet + rejects; `row` is the 1-based data row;
- `pairs.parquet` (source_l, key_l, source_r, key_r, match_probability): the scored pairs at
  or above the entity's `pairs_min_probability`, strongest first;
- `model.json` (the trained Splink model), `report.json` (counts, model summary, settings
  used, how training went: the prior and where it came from, each EM session, every
  fallback; the link threshold and the precision and recall it expects; timings) and
  `resolve.log` (Splink's training notes).
Training and scoring are the pipeline's own (`matching.resolution.trainer.train`,
`matching.resolution.scoring`). Master ids are opaque (`CUS-`/`PRD-` + ULID) and new on every
resolve: there is no history to keep them stable against. The command's steps (read,
standardise, train, score, cluster, write, report) stay together in this one module of about
500 lines, in the order they run.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from e360.config import EngineSettings, SourceConfig
from e360.entities import DEFAULT_ID_PREFIX, record_id
from e360.errors import ConfigError, MatchError
from e360.ids import master_id
from e360.mappings import apply_mapping, mapped_columns
from e360.zones import KEY_COLUMNS, STANDARDIZED_COLUMNS
from ingestion.readers import read_file
from matching.mapped.mapping import ExtraKind, MappedSource, Mapping, extra_column
from matching.mapped.plan import Plan, plan_for
from matching.resolution.blocking import within_budget, without_stop_keys
from matching.resolution.clustering import cluster
from matching.resolution.engine import backend_for, register, splink_session
from matching.resolution.resolve import exclusive_groups
from matching.resolution.scoring import cannot_links, links_at, score_all
from matching.resolution.settings import UNIQUE_ID
from matching.resolution.thresholds import Threshold, link_threshold
from matching.resolution.timing import Laps
from matching.resolution.trainer import TrainingReport, source_sizes, train
from matching.standardize import (
    clean_text,
    complete_products,
    date,
    standardize_customer,
    standardize_product,
)

CLUSTERS_SCHEMA = pa.schema(
    [("source", pa.string()), ("source_key", pa.string()), ("master_id", pa.string())]
)
PAIRS_SCHEMA = pa.schema(
    [
        ("source_l", pa.string()),
        ("key_l", pa.string()),
        ("source_r", pa.string()),
        ("key_r", pa.string()),
        ("match_probability", pa.float64()),
    ]
)
REJECTS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("file", pa.string()),
        ("row", pa.int64()),
        ("reason", pa.string()),
        ("raw", pa.string()),
    ]
)
EXTRA_TYPES: dict[ExtraKind, pa.DataType] = {
    "exact": pa.string(),
    "text": pa.string(),
    "number": pa.float64(),
    "date": pa.date32(),
}
Progress = Callable[[str], None]


@dataclass
class _Read:
    """One source's file: records to resolve and rows that could not become records."""

    name: str
    file: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    rejects: list[dict[str, Any]] = field(default_factory=list)
    unreadable_extras: dict[str, int] = field(default_factory=dict)


def resolve_mapping(
    mapping: Mapping,
    out_dir: Path,
    *,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Resolve the mapping's files into `out_dir` (module docstring); returns the report."""
    say = progress or (lambda _: None)
    clock = Laps()
    plan = plan_for(mapping)  # before reading: a mapping too thin to match fails fast
    reads = [_read_source(mapping, i, source) for i, source in enumerate(mapping.sources)]
    if mapping.entity == "product":
        complete_products([r for read in reads for r in read.records])  # batch-wide
    for read in reads:
        say(f"{read.name}: {len(read.records):,} records, {len(read.rejects):,} rejected")
    clock.lap("read_and_standardize")
    table = _records_table(mapping, reads)
    out_dir.mkdir(parents=True, exist_ok=True)
    fitted = _Fitted()
    if table.num_rows >= 2:
        with _splink_log(out_dir / "resolve.log"):
            fitted = _score_and_cluster(mapping, plan, table, out_dir, clock, say)
    else:
        fitted.clusters = {rid: rid for rid in table.column(UNIQUE_ID).to_pylist()}
    masters = _master_ids(mapping.entity, fitted.clusters)
    clusters = pa.table(
        {
            "source": table.column("source"),
            "source_key": table.column("source_key"),
            "master_id": pa.array(
                [masters[rid] for rid in table.column(UNIQUE_ID).to_pylist()], pa.string()
            ),
        },
        schema=CLUSTERS_SCHEMA,
    )
    rejects = pa.Table.from_pylist(
        [r for read in reads for r in read.rejects], schema=REJECTS_SCHEMA
    )
    pq.write_table(clusters, out_dir / "clusters.parquet")
    pq.write_table(fitted.pairs, out_dir / "pairs.parquet")
    pq.write_table(rejects, out_dir / "rejects.parquet")
    model_file = out_dir / "model.json"
    if fitted.model is not None:
        model_file.write_text(json.dumps(fitted.model, indent=2, default=str))
    else:  # not a model of an earlier resolve into the same folder
        model_file.unlink(missing_ok=True)
    clock.lap("write")
    report = _report(mapping, plan, reads, table, clusters, fitted, clock.laps)
    (out_dir / "report.json").write_text(json.dumps(report, indent=2, default=str))
    return report


# Reading and standardising.


def read_records(mapping: Mapping) -> tuple[Plan, pa.Table]:
    """The mapping's matching plan and its records, read and standardised as a resolve does
    (for tools that score the same records another way, e.g. the active-learning bench)."""
    plan = plan_for(mapping)
    reads = [_read_source(mapping, i, source) for i, source in enumerate(mapping.sources)]
    if mapping.entity == "product":
        complete_products([r for read in reads for r in read.records])
    return plan, _records_table(mapping, reads)


def _read_source(mapping: Mapping, index: int, source: MappedSource) -> _Read:
    path = mapping.path_of(source)
    config = SourceConfig(
        entity=mapping.entity,
        format=source.format,
        path=str(path),
        key=source.key,
        mapping=dict(source.attributes),
        csv=source.csv,
        dayfirst=source.dayfirst,
        default_region=source.default_region,
    )
    rows = read_file(path, config)
    for reject in rows.rejects:
        if reject.row is None:  # the whole file: no column names, nothing to resolve
            raise MatchError(f"{path}: {reject.reason}")
    _check_columns(mapping, index, source, path, rows.columns)
    read = _Read(source.name, path)
    read.rejects = [
        {
            "source": source.name,
            "file": str(path),
            "row": r.row,
            "reason": r.reason,
            "raw": r.raw,
        }
        for r in rows.rejects
    ]
    standardize = _standardizer(mapping.entity, source)
    extras = [(name, extra_column(name), kind) for name, kind in source.extra.items()]
    first_row: dict[str, int] = {}
    for number, row in zip(rows.row_numbers, rows.rows, strict=True):
        key = (row[source.key] or "").strip()  # the reader's contract: never blank
        earlier = first_row.setdefault(key, number)
        if earlier != number:
            raise MatchError(
                f"{path}: key '{key}' of source {source.name} is on data rows {earlier} and "
                f"{number}: a source's keys must be unique"
            )
        record = standardize(apply_mapping(source.attributes, row))
        for name, column, kind in extras:
            raw = row.get(name)
            value = _extra_value(raw, kind, source.dayfirst)
            if value is None and raw is not None and raw.strip():
                read.unreadable_extras[column] = read.unreadable_extras.get(column, 0) + 1
            record[column] = value
        record[UNIQUE_ID] = record_id(source.name, key)
        record["source"] = source.name
        record["source_key"] = key
        read.records.append(record)
    return read


def _check_columns(
    mapping: Mapping, index: int, source: MappedSource, path: Path, columns: list[str]
) -> None:
    present = set(columns)
    wanted: list[tuple[tuple[str, ...], str]] = [(("key",), source.key)]
    wanted += [(("attributes", a), c) for a, c in mapped_columns(source.attributes)]
    wanted += [(("extra", name), name) for name in source.extra]
    missing = [
        f"{mapping.key_of(index, *where)}: column '{column}' is not in {path.name}"
        for where, column in wanted
        if column not in present
    ]
    if missing:
        shown = ", ".join(columns) if columns else "none: the file is empty"
        raise ConfigError("\n".join(missing) + f"\n{path.name} has the columns: {shown}")


def _standardizer(entity: str, source: MappedSource) -> Callable[[dict[str, Any]], dict[str, Any]]:
    if entity == "customer":
        return lambda record: standardize_customer(
            record, default_region=source.default_region, dayfirst=source.dayfirst
        )
    return standardize_product


def _extra_value(value: str | None, kind: ExtraKind, dayfirst: bool) -> Any:
    if kind == "number":
        return _number(value)
    if kind == "date":
        return date(value, dayfirst=dayfirst)
    return clean_text(value)


_THOUSANDS_RE = re.compile(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$")  # 1,234,567.89
_DECIMAL_COMMA_RE = re.compile(r"^[-+]?\d+,\d+$")  # 12,5


def _number(value: str | None) -> float | None:
    """A number as written in a file: 1234.5, 1,234.5 and 1234,5; anything else is None."""
    text = (value or "").strip().replace(" ", "").replace("_", "")
    if _THOUSANDS_RE.match(text):
        text = text.replace(",", "")
    elif _DECIMAL_COMMA_RE.match(text):
        text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _records_table(mapping: Mapping, reads: list[_Read]) -> pa.Table:
    extras = [(c, EXTRA_TYPES[k]) for c, k in sorted(mapping.extra_columns().items())]
    schema = pa.schema([*KEY_COLUMNS, *STANDARDIZED_COLUMNS[mapping.entity], *extras])
    return pa.Table.from_pylist([r for read in reads for r in read.records], schema=schema)


# Scoring and clustering.


@dataclass
class _Fitted:
    clusters: dict[str, str] = field(default_factory=dict)  # record_id -> cluster id
    pairs: pa.Table = field(default_factory=PAIRS_SCHEMA.empty_table)
    links: int = 0  # pairs at or above the threshold
    model: dict[str, Any] | None = None
    training: TrainingReport = field(default_factory=TrainingReport)
    threshold: Threshold | None = None
    blocking: dict[str, Any] | None = None  # pairs per prediction rule (blocking.Budget)


def _score_and_cluster(
    mapping: Mapping,
    plan: Plan,
    table: pa.Table,
    out_dir: Path,
    clock: Laps,
    say: Progress,
) -> _Fitted:
    # Splink on DuckDB, in-process: a resolve is one machine's job (the pipeline is the one
    # that runs on Spark).
    backend = backend_for(EngineSettings(), out_dir)
    fitted = _Fitted()
    matching = plan.matching
    exclusive = mapping.exclusive_sources
    table = without_stop_keys(table, matching)
    with splink_session(backend, str(mapping.file)):
        records = register(backend, table, f"{mapping.entity}_records")
        budget = within_budget(
            records, matching, record_count=table.num_rows, exclusive_sources=exclusive
        )
        matching, fitted.blocking = budget.matching, budget.as_dict()
        say(f"blocking: {budget.comparisons:,} candidate pairs")
        say(f"training the {mapping.entity} model on {table.num_rows:,} records (EM, no labels)")
        linker = train(
            records,
            matching,
            [e.creator() for e in plan.extras],
            exclusive_sources=exclusive,
            source_sizes=source_sizes(table),
            report=fitted.training,
        )
        fitted.model = linker.misc.save_model_to_json(None)
        clock.lap("train")
        say("scoring candidate pairs")
        scores = score_all(linker, records, matching)
        clock.lap("predict")
    fitted.threshold = link_threshold(matching.threshold, scores.column("match_probability"))
    links = links_at(scores, fitted.threshold.value)
    record_ids = table.column(UNIQUE_ID).to_pylist()
    fitted.clusters = cluster(
        record_ids,
        links,
        cannot_links(scores, links, matching),
        exclusive_groups=exclusive_groups(table, exclusive),
    ).clusters
    fitted.links = len(links)
    fitted.pairs = _pairs(table, scores, matching.pairs_min_probability)
    clock.lap("cluster")
    return fitted


def _pairs(table: pa.Table, scores: pa.Table, min_probability: float) -> pa.Table:
    """The stored pairs with each side's source key, strongest first."""
    keys = dict(
        zip(
            table.column(UNIQUE_ID).to_pylist(), table.column("source_key").to_pylist(), strict=True
        )
    )
    kept = scores.filter(pc.greater_equal(scores["match_probability"], min_probability))
    kept = kept.sort_by(
        [
            ("match_probability", "descending"),
            ("record_id_l", "ascending"),
            ("record_id_r", "ascending"),
        ]
    )
    return pa.table(
        {
            "source_l": kept.column("source_l"),
            "key_l": pa.array(
                [keys[r] for r in kept.column("record_id_l").to_pylist()], pa.string()
            ),
            "source_r": kept.column("source_r"),
            "key_r": pa.array(
                [keys[r] for r in kept.column("record_id_r").to_pylist()], pa.string()
            ),
            "match_probability": kept.column("match_probability"),
        },
        schema=PAIRS_SCHEMA,
    )


def _master_ids(entity: str, clusters: dict[str, str]) -> dict[str, str]:
    prefix = DEFAULT_ID_PREFIX[entity]
    ids: dict[str, str] = {}
    for cluster_id in sorted(set(clusters.values())):
        ids[cluster_id] = master_id(prefix)
    return {rid: ids[cluster_id] for rid, cluster_id in clusters.items()}


# Report.


def _report(
    mapping: Mapping,
    plan: Plan,
    reads: list[_Read],
    table: pa.Table,
    clusters: pa.Table,
    fitted: _Fitted,
    timings: dict[str, float],
) -> dict[str, Any]:
    sizes: dict[str, int] = {}
    for master in clusters.column("master_id").to_pylist():
        sizes[master] = sizes.get(master, 0) + 1
    compared = [c for spec in plan.matching.comparisons for c in spec.input_columns]
    compared += [e.column for e in plan.extras]
    return {
        "mapping": str(mapping.file),
        "entity": mapping.entity,
        "one_per_source": mapping.one_per_source,
        "one_per_master": sorted(mapping.exclusive_sources),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "sources": [
            {
                "name": read.name,
                "file": str(read.file),
                "rows_in": len(read.records) + len(read.rejects),
                "records": len(read.records),
                "rejected": len(read.rejects),
                "unreadable_extra_values": read.unreadable_extras,
            }
            for read in reads
        ],
        "records": table.num_rows,
        "rejected": sum(len(read.rejects) for read in reads),
        "masters": len(sizes),
        "masters_with_several_records": sum(1 for n in sizes.values() if n > 1),
        "largest_master": max(sizes.values(), default=0),
        "pairs": fitted.pairs.num_rows,
        "links_at_threshold": fitted.links,
        "filled": {
            column: round(1 - table.column(column).null_count / table.num_rows, 4)
            for column in dict.fromkeys(compared)
            if table.num_rows
        },
        "settings": plan.summary(),
        "threshold": fitted.threshold.as_dict() if fitted.threshold else None,
        "training": fitted.training.as_dict(),
        "blocking": fitted.blocking,
        "model": _model_summary(fitted.model),
        "timings": timings,
    }


def _model_summary(model: dict[str, Any] | None) -> Any:
    """λ and, per comparison level, m and u: enough to see what the data taught the model."""
    if model is None:
        return None
    return {
        "probability_two_random_records_match": model["probability_two_random_records_match"],
        "comparisons": {
            comparison["output_column_name"]: [
                {
                    "level": level.get("label_for_charts") or level["sql_condition"],
                    "m": level.get("m_probability"),
                    "u": level.get("u_probability"),
                }
                for level in comparison["comparison_levels"]
                if not level.get("is_null_level")
            ]
            for comparison in model["comparisons"]
        },
    }


@contextmanager
def _splink_log(path: Path) -> Iterator[None]:
    """Splink's training notes go to a file beside the results, not the terminal."""
    logger = logging.getLogger("splink")
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    level, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        logger.propagate = propagate
        handler.close()


def summary_lines(report: dict[str, Any], out_dir: Path) -> list[str]:
    """What the command line prints after a resolve."""
    timings = ", ".join(f"{step} {seconds:.1f}s" for step, seconds in report["timings"].items())
    lines = [
        f"{report['entity']}: {report['records']:,} records -> {report['masters']:,} masters "
        f"({report['masters_with_several_records']:,} with several records), "
        f"{report['pairs']:,} scored pairs",
    ]
    threshold, prior = report.get("threshold"), (report.get("training") or {}).get("prior")
    if threshold:
        line = f"link threshold {threshold['value']:.3f} ({threshold['chosen']})"
        if threshold.get("expected_precision") is not None:
            line += (
                f", expected precision {threshold['expected_precision']:.3f}, "
                f"recall {threshold['expected_recall']:.3f}"
            )
        if prior:
            line += f"; prior {prior['value']:.3g} from {prior['source']}"
        lines.append(line)
    warnings = (report.get("training") or {}).get("warnings") or []
    if warnings:
        lines.append(f"training: {len(warnings)} warning(s), see report.json")
    if report["rejected"]:
        lines.append(
            f"{report['rejected']:,} rows could not be read as records: see "
            f"{out_dir / 'rejects.parquet'}"
        )
    written = [
        name
        for name in ("clusters.parquet", "pairs.parquet", "rejects.parquet", "model.json",
                     "report.json")
        if (out_dir / name).exists()
    ]  # fmt: skip
    lines += [f"steps: {timings}", f"written to {out_dir}: {', '.join(written)}"]
    return lines
