"""Dagster resources: the e360 project (configuration + lake) and progress, keyed by environment."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from e360.config import ENV_PREFIX, E360Config, load_config
from e360.ids import new_run_id
from e360.lake import Lake
from e360.progress import Progress, SilentProgress
from e360.report import write_part
from e360.resources import DBT_PROJECT_DIR, DEMO_CONFIG, demo_project_root

RUN_ID_TAG = "e360/run_id"


class E360Resource(dg.ConfigurableResource):
    """The e360 project a run works on: its configuration, lake and run folder."""

    config_path: str
    overrides_json: str = "{}"  # dotted-key overrides, as JSON so the resource stays plain data
    retrain: bool = False  # train new model versions instead of reusing the matching ones
    full: bool = False  # rescore and re-cluster every record, not only new and changed ones

    @cached_property
    def config(self) -> E360Config:
        return load_config(self.config_path, overrides=json.loads(self.overrides_json))

    @cached_property
    def lake(self) -> Lake:
        return Lake.from_config(self.config)

    def run_id(self, context: dg.OpExecutionContext) -> str:
        """The e360 run id: the launcher's tag, else one derived from the Dagster run."""
        tagged = context.run.tags.get(RUN_ID_TAG)
        if tagged:
            return tagged
        record = context.instance.get_run_record_by_id(context.run_id)
        started = record.create_timestamp if record is not None else datetime.now(UTC)
        return f"{started:%Y%m%dT%H%M%SZ}-{context.run_id[:6]}"

    def run_dir(self, context: dg.OpExecutionContext) -> Path:
        path = self.config.runs_dir / self.run_id(context)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def record(self, context: dg.OpExecutionContext, section: str, key: str, value: Any) -> None:
        write_part(self.run_dir(context), section, key, value)

    @contextmanager
    def step(self, context: dg.OpExecutionContext, group: str, name: str) -> Iterator[Progress]:
        """Shows progress and records the step's wall time (per group, for the report)."""
        progress: Progress = getattr(context.resources, "progress", None) or SilentProgress()
        started = time.perf_counter()
        with progress.stage(f"{group}: {name}"):
            yield progress
        seconds = round(time.perf_counter() - started, 3)
        self.record(context, "timings", f"{group}/{name}", seconds)


def dbt_executable() -> str:
    """dbt beside the running interpreter: `.venv/bin/e360` runs without an activated
    environment, so its dbt is seldom on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    if beside.exists():
        return str(beside)
    return shutil.which("dbt") or "dbt"


def dbt_resource(target: str) -> DbtCliResource:
    return DbtCliResource(
        project_dir=str(DBT_PROJECT_DIR),
        profiles_dir=str(DBT_PROJECT_DIR),
        target=target,
        dbt_executable=dbt_executable(),
    )


_PROGRESS: ContextVar[Progress | None] = ContextVar("e360_progress", default=None)


@contextmanager
def showing_progress(progress: Progress) -> Iterator[None]:
    """Runs started inside this block (in-process) report their steps to `progress`."""
    token = _PROGRESS.set(progress)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


_DBT_TARGET = {"local": "duckdb", "prod": "redshift"}


def resources_for(
    environment: str,
    config_path: str | None = None,
    overrides: dict[str, Any] | None = None,
    retrain: bool = False,
    full: bool = False,
) -> dict[str, Any]:
    """Resources per environment: local runs the embedded defaults, prod the AWS deployment."""
    if environment not in _DBT_TARGET:
        raise dg.DagsterInvariantViolationError(
            f"E360_ENV must be local or prod, not {environment!r}"
        )
    default = str(DEMO_CONFIG) if environment == "local" else None
    path = config_path or os.environ.get("E360_CONFIG", default)
    if not path:
        raise dg.DagsterInvariantViolationError(f"E360_ENV={environment} needs E360_CONFIG")
    chosen = "project.root" in (overrides or {}) or f"{ENV_PREFIX}PROJECT__ROOT" in os.environ
    if path == default and not chosen:  # the embedded demo: its project where `e360 demo` puts it
        overrides = {"project.root": str(demo_project_root()), **(overrides or {})}
    return {
        "e360": E360Resource(
            config_path=path,
            overrides_json=json.dumps(overrides or {}),
            retrain=retrain,
            full=full,
        ),
        "dbt": dbt_resource(_DBT_TARGET[environment]),
        "progress": _PROGRESS.get() or SilentProgress(),
    }


def new_run_tags() -> dict[str, str]:
    return {RUN_ID_TAG: new_run_id()}
