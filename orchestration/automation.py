"""When runs happen: a daily schedule for the batch sources, a sensor for new landing files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import dagster as dg

from e360.config import E360Config
from orchestration.resources import new_run_tags


def daily_schedule(
    job: dg.UnresolvedAssetJobDefinition, cron: str, *, enabled: bool = False
) -> dg.ScheduleDefinition:
    """`enabled`: running from the start (`quality.schedule_enabled`); the daemon ticks it."""

    @dg.schedule(
        name="daily_batch_run",
        job=job,
        cron_schedule=cron,
        execution_timezone="UTC",
        default_status=(
            dg.DefaultScheduleStatus.RUNNING if enabled else dg.DefaultScheduleStatus.STOPPED
        ),
    )
    def _daily(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        scheduled = context.scheduled_execution_time
        key = scheduled.strftime("%Y-%m-%dT%H:%M") if scheduled else "manual"
        return dg.RunRequest(run_key=f"daily-{key}", tags=new_run_tags())

    return _daily


def landing_files(config: E360Config) -> dict[str, str]:
    """Landing files of every source: relative path -> size and modification time."""
    found = {}
    for source in config.sources.values():
        if source.path is None or source.s3 is not None:
            continue  # streams and S3 prefixes are not in the landing folder
        for path in sorted(config.landing_dir.glob(source.path)):
            if path.is_file():
                stat = path.stat()
                found[path.relative_to(config.landing_dir).as_posix()] = (
                    f"{stat.st_size}:{stat.st_mtime_ns}"
                )
    return found


def landing_sensor(
    job: dg.UnresolvedAssetJobDefinition, *, enabled: bool = False
) -> dg.SensorDefinition:
    """`enabled`: running from the start (`quality.sensor_enabled`); the daemon evaluates it."""

    @dg.sensor(
        name="new_landing_files",
        job=job,
        minimum_interval_seconds=60,
        required_resource_keys={"e360"},
        description="Starts a run when files appear or change in the landing area",
        default_status=(
            dg.DefaultSensorStatus.RUNNING if enabled else dg.DefaultSensorStatus.STOPPED
        ),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> Iterator[dg.RunRequest | dg.SkipReason]:
        seen = json.loads(context.cursor) if context.cursor else {}
        current = landing_files(context.resources.e360.config)
        new = {path: version for path, version in current.items() if seen.get(path) != version}
        if not new:
            yield dg.SkipReason("no new or changed landing files")
            return
        run_key = hashlib.sha256(json.dumps(new, sort_keys=True).encode()).hexdigest()[:16]
        yield dg.RunRequest(
            run_key=run_key, tags={**new_run_tags(), "e360/new_files": str(len(new))}
        )
        context.update_cursor(json.dumps(current, sort_keys=True))

    return _sensor
