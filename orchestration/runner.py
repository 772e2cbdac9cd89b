"""Runs the Dagster definition in-process: what `e360 run|ingest|match|publish` execute.

There is no second copy of the pipeline order: a stage is a selection of the definition's
assets, Dagster orders and executes them, records the run in its own storage (the project's
`.dagster/` folder, which `e360 ui` shows) and the run report is assembled from what each
asset recorded.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from e360.config import E360Config
from e360.errors import E360Error, IngestError, MatchError
from e360.ids import new_run_id
from e360.locks import holding_project_lock
from e360.progress import Progress, SilentProgress
from e360.report import RunReport
from e360.warehouse import environment
from orchestration.assets.ingestion import raw_key
from orchestration.assets.matching import EVENTS_KEY, MASTER_ASSET_TABLES, master_key
from orchestration.assets.standardization import standardized_key
from orchestration.definitions import e360_run_job
from orchestration.resources import RUN_ID_TAG, showing_progress
from orchestration.storage import dagster_home

__all__ = ["STAGES", "RunFailed", "dagster_home", "rerun_from_failure", "run_pipeline"]

STAGES = ("ingest", "standardize", "match", "publish")
_LOGGERS = ("e360", "splink")


class RunFailed(E360Error):
    """A run ended with a failed step or a failed blocking check; its report was written."""

    def __init__(self, report: RunReport, report_path: Path) -> None:
        super().__init__(report.error or "the run failed")
        self.report = report
        self.report_path = report_path


def selection_for(
    config: E360Config,
    stages: Iterable[str],
    sources: Sequence[str] | None = None,
    entities: Sequence[str] | None = None,
) -> dg.AssetSelection:
    unknown = sorted(set(sources or ()) - set(config.sources))
    if unknown:
        raise IngestError(f"unknown source(s) {unknown}; configured: {sorted(config.sources)}")
    unknown = sorted(set(entities or ()) - set(config.entities))
    if unknown:
        raise MatchError(f"unknown entit(y/ies) {unknown}; configured: {sorted(config.entities)}")
    chosen_entities = list(entities or config.entities)
    keys: list[dg.AssetKey] = []
    wanted = set(stages)
    if "ingest" in wanted:
        keys += [raw_key(name) for name in (sources or config.sources)]
    if "standardize" in wanted:
        keys += [standardized_key(entity) for entity in chosen_entities]
    if "match" in wanted:
        keys += [master_key(e, t) for e in chosen_entities for t in MASTER_ASSET_TABLES]
        # Events carry both entities' master ids: matching only some entities leaves them
        # for a run that masters all (conforming now would reject every reference into an
        # entity never mastered).
        if set(chosen_entities) == set(config.entities):
            keys.append(EVENTS_KEY)
    selection: dg.AssetSelection = dg.AssetSelection.assets(*keys)
    if "publish" in wanted:
        selection = selection | dg.AssetSelection.groups("publishing")
    return selection


def run_pipeline(
    config: E360Config,
    stages: Iterable[str] = STAGES,
    *,
    sources: Sequence[str] | None = None,
    entities: Sequence[str] | None = None,
    retrain: bool = False,
    full: bool = False,
    progress: Progress | None = None,
) -> RunReport:
    """Execute the run job on the selected stages, in-process; the report is always written.

    `full`: rescore and re-cluster every record instead of building on the last run.
    """
    wanted = [s for s in STAGES if s in set(stages)]
    selection = selection_for(config, wanted, sources, entities)
    return _execute(config, wanted, progress, retrain, selection=selection, full=full)


def rerun_from_failure(
    config: E360Config, run_id: str, *, progress: Progress | None = None
) -> RunReport:
    """Re-execute a failed run's failed steps and what depends on them, nothing else."""
    path = config.runs_dir / run_id / "report.json"
    if not path.exists():
        raise E360Error(f"no run {run_id} under {config.runs_dir}")
    failed = RunReport.read(path)
    if failed.status != "failed" or not failed.dagster_run_id:
        raise E360Error(f"run {run_id} did not fail ({failed.status}): nothing to re-execute")
    return _execute(config, failed.stages, progress, False, rerun_of=failed.dagster_run_id)


def _execute(
    config: E360Config,
    stages: list[str],
    progress: Progress | None,
    retrain: bool,
    *,
    selection: dg.AssetSelection | None = None,
    rerun_of: str | None = None,
    full: bool = False,
) -> RunReport:
    # The lock first: a run that never got it leaves no run folder behind.
    with holding_project_lock(config):
        return _execute_locked(
            config, stages, progress, retrain, selection=selection, rerun_of=rerun_of, full=full
        )


def _execute_locked(
    config: E360Config,
    stages: list[str],
    progress: Progress | None,
    retrain: bool,
    *,
    selection: dg.AssetSelection | None,
    rerun_of: str | None,
    full: bool,
) -> RunReport:
    run_id = new_run_id()
    run_dir = config.runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    report = RunReport(
        run_id=run_id,
        config_file=str(config.file),
        config_fingerprint=config.fingerprint,
        stages=stages,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    project = {
        "E360_CONFIG": str(config.file),
        "E360_OVERRIDES": json.dumps(config.overrides),
        "E360_RETRAIN": "1" if retrain else "0",
        "E360_FULL": "1" if full else "0",
    }
    handler = _log_to(run_dir / "e360.log")
    try:
        with (
            dg.DagsterInstance.from_config(str(dagster_home(config))) as instance,
            environment(project),
            showing_progress(progress or SilentProgress()),
        ):
            keys = None
            if selection is not None:
                keys = list(selection.resolve(e360_run_job().asset_layer.asset_graph))
            with dg.execute_job(
                dg.reconstructable(e360_run_job),
                instance,
                run_config=_RUN_CONFIG,
                tags={RUN_ID_TAG: run_id},
                asset_selection=keys,
                reexecution_options=(
                    dg.ReexecutionOptions.from_failure(rerun_of, instance) if rerun_of else None
                ),
            ) as result:
                report.dagster_run_id = result.run_id
                report.checks = _check_results(result)
                report.status = "succeeded" if result.success else "failed"
                if not result.success:
                    report.error = _failure_message(result, report.checks)
    except Exception as exc:
        # Even a run that could not start (a broken dbt project, say) leaves its report.
        report.status, report.error = "failed", f"{type(exc).__name__}: {exc}"
        raise
    finally:
        _stop_logging(handler)
        report.add_parts(run_dir)
        report.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        report.write(run_dir / "report.json")
    if report.status != "succeeded":
        raise RunFailed(report, run_dir / "report.json")
    return report


# In-process: one process, the CLI's progress display, and no per-step process start-up.
_RUN_CONFIG = {
    "execution": {"config": {"in_process": {}}},
    # Failures reach the user through the report and one clean message, not stack traces.
    "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
}


def _check_results(result: dg.JobExecutionResult) -> dict[str, dict[str, object]]:
    checks: dict[str, dict[str, object]] = {}
    for evaluation in result.get_asset_check_evaluations():
        name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
        checks[name] = {
            "passed": evaluation.passed,
            "severity": evaluation.severity.value,
            "description": evaluation.description,
        }
    return checks


def _failure_message(result: dg.JobExecutionResult, checks: dict[str, dict]) -> str:
    failed_checks = [
        f"check {name} failed" + (f": {c['description']}" if c.get("description") else "")
        for name, c in checks.items()
        if not c["passed"] and c["severity"] == "ERROR"
    ]
    errors = []
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            error = event.step_failure_data.error
            while error is not None and error.cause is not None:
                error = error.cause
            if error is not None and "blocking" not in error.message.lower():
                errors.append(error.message.split(": ", 1)[-1].strip())
    return "\n".join(dict.fromkeys(errors + failed_checks)) or "the run failed"


def _log_to(path: Path) -> logging.Handler:
    """Library chatter (Splink's training notes, warnings) goes to the run folder."""
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    return handler


def _stop_logging(handler: logging.Handler) -> None:
    for name in _LOGGERS:
        logging.getLogger(name).removeHandler(handler)
    handler.close()
