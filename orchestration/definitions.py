"""The one Dagster definition of e360: assets, checks, jobs, schedule, sensors, resources.

`e360 run` materialises exactly these assets in-process; `e360 ui` serves them in Dagster's
web UI (`dagster dev -m orchestration.definitions` works too). The configuration comes from
`E360_CONFIG` (the demo's by default) and the environment from `E360_ENV` (local | prod).
"""

from __future__ import annotations

import json
import os
from typing import Any

import dagster as dg

from orchestration.assets import pipeline_assets
from orchestration.automation import daily_schedule, landing_sensor
from orchestration.resources import resources_for

RUN_JOB = "e360_run"


def build_definitions(
    config_path: str | None = None,
    environment: str | None = None,
    overrides: dict[str, Any] | None = None,
    retrain: bool = False,
    full: bool = False,
) -> dg.Definitions:
    resources = resources_for(
        environment or os.environ.get("E360_ENV", "local"), config_path, overrides, retrain, full
    )
    config = resources["e360"].config
    assets = pipeline_assets(config)
    run_job = dg.define_asset_job(
        RUN_JOB,
        selection=dg.AssetSelection.all(),
        description="One pipeline run: ingest -> standardize -> match -> publish",
    )
    return dg.Definitions(
        assets=assets,
        jobs=[run_job],
        schedules=[
            daily_schedule(
                run_job, config.quality.schedule, enabled=config.quality.schedule_enabled
            )
        ],
        sensors=[landing_sensor(run_job, enabled=config.quality.sensor_enabled)],
        resources=resources,
    )


@dg.definitions
def defs() -> dg.Definitions:
    return build_definitions()


def e360_run_job() -> dg.JobDefinition:
    """The run job for the project the environment names; reconstructable, so Dagster can
    execute and re-execute it (`E360_CONFIG`, `E360_OVERRIDES` as JSON, `E360_RETRAIN`, `E360_FULL`)."""
    definitions = build_definitions(
        overrides=json.loads(os.environ.get("E360_OVERRIDES", "{}")),
        retrain=os.environ.get("E360_RETRAIN") == "1",
        full=os.environ.get("E360_FULL") == "1",
    )
    return definitions.resolve_job_def(RUN_JOB)
