"""The one pipeline definition: ingest -> standardize -> match -> publish.

`e360 run` runs all stages, `e360 ingest|match|publish` run some; either way every run gets a
run id, a folder `runs/<run_id>/` and a `report.json` written even when a stage fails.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from e360.config import E360Config
from e360.entities import MASTERED_ENTITIES
from e360.errors import E360Error
from e360.evaluation import cluster_scores, load_truth, pairwise_scores
from e360.ids import new_run_id
from e360.lake import Lake
from e360.progress import Progress, SilentProgress
from e360.report import RunReport
from e360.warehouse import publish
from ingestion.batch import ingest_sources
from matching.events import build_conformed_events
from matching.master_zone import MatchSummary, match_entity
from matching.standardized import build_standardized

STAGES = ("ingest", "standardize", "match", "publish")


@dataclass
class Run:
    config: E360Config
    lake: Lake
    run_id: str
    run_dir: Path
    report: RunReport
    progress: Progress
    sources: Sequence[str] | None = None
    entities: Sequence[str] = MASTERED_ENTITIES
    retrain: bool = False
    summaries: dict[str, MatchSummary] = field(default_factory=dict)


def ingest(run: Run) -> None:
    advance = run.progress.task("ingest files", None)
    results = ingest_sources(
        run.config, run.lake, run.run_id, run.sources, on_file=lambda _f, _n: advance(1)
    )
    run.report.ingest = [r.as_dict() for r in results]


def standardize(run: Run) -> None:
    for entity in run.entities:
        advance = run.progress.task(f"standardize {entity}", None)
        table = build_standardized(run.config, run.lake, entity, on_progress=advance)
        run.report.standardized[entity] = table.num_rows


def match(run: Run) -> None:
    for entity in run.entities:
        run.progress.note(f"resolving {entity}")
        summary = match_entity(run.config, run.lake, entity, run.run_id, retrain=run.retrain)
        run.summaries[entity] = summary
        run.report.entities[entity] = summary.as_dict()
        run.report.evaluation.update(_evaluate(run.config, entity, summary.record_masters))
    masters = {e: _record_masters(run, e) for e in MASTERED_ENTITIES}
    counts = build_conformed_events(
        run.config, run.lake, masters["customer"], masters["product"], run.run_id
    )
    run.report.events = [c.__dict__ for c in counts]


def publish_stage(run: Run) -> None:
    snapshots: dict[str, int | None] = {}
    for summary in run.summaries.values():
        snapshots.update(summary.snapshots)
    summary = publish(run.config, run.lake, run.run_dir / "dbt", snapshots)
    run.report.publish = summary.as_dict()


STAGE_FUNCTIONS: dict[str, Callable[[Run], None]] = {
    "ingest": ingest,
    "standardize": standardize,
    "match": match,
    "publish": publish_stage,
}


def run_pipeline(
    config: E360Config,
    stages: Iterable[str] = STAGES,
    *,
    sources: Sequence[str] | None = None,
    entities: Sequence[str] | None = None,
    retrain: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    """Run the given stages in pipeline order; the report is written whatever happens."""
    wanted = [s for s in STAGES if s in set(stages)]
    run_id = new_run_id()
    run_dir = config.runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    report = RunReport(
        run_id=run_id,
        config_file=str(config.file),
        config_fingerprint=config.fingerprint,
        stages=wanted,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    run = Run(
        config=config,
        lake=Lake.from_config(config),
        run_id=run_id,
        run_dir=run_dir,
        report=report,
        progress=progress or SilentProgress(),
        sources=sources,
        entities=list(entities or MASTERED_ENTITIES),
        retrain=retrain,
    )
    log_handler = _log_to_run_folder(run_dir)
    try:
        for stage in wanted:
            _timed(run, stage, STAGE_FUNCTIONS[stage])
        report.status = "succeeded"
    except E360Error as exc:
        report.status = "failed"
        report.error = str(exc)
        raise
    finally:
        report.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        report.write(run_dir / "report.json")
        for name in _LOGGERS:
            logging.getLogger(name).removeHandler(log_handler)
        log_handler.close()
    return report


_LOGGERS = ("e360", "splink")


def _log_to_run_folder(run_dir: Path) -> logging.Handler:
    """Library chatter (Splink's training notes, warnings) goes to `runs/<id>/e360.log`."""
    handler = logging.FileHandler(run_dir / "e360.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return handler


def _timed(run: Run, stage: str, function: Callable[[Run], None]) -> None:
    started = time.perf_counter()
    with run.progress.stage(stage):
        function(run)
    run.report.timings[stage] = round(time.perf_counter() - started, 3)


def _record_masters(run: Run, entity: str) -> dict[str, str]:
    if entity in run.summaries:
        return run.summaries[entity].record_masters
    xref = run.lake.read("master", f"{entity}_xref", columns=("record_id", "master_id"))
    if xref is None:
        return {}
    return dict(
        zip(xref.column("record_id").to_pylist(), xref.column("master_id").to_pylist(), strict=True)
    )


def _evaluate(config: E360Config, entity: str, predicted: dict[str, str]) -> dict[str, object]:
    path = config.truth_file(entity)
    if path is None or not path.exists():
        return {}
    truth = load_truth(path)
    pairwise = pairwise_scores(predicted, truth)
    cluster = cluster_scores(predicted, truth)
    return {
        entity: {
            "records_scored": len(set(predicted) & set(truth)),
            "pairwise": pairwise.__dict__,
            "cluster": cluster.__dict__,
        }
    }
