"""`evaluation` and `quality`: the ground truth a run is scored against, and the limits the
pipeline's checks enforce before anything publishes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from e360.config.base import Probability, Section


class EvaluationSettings(Section):
    """Ground truth files (source,source_key,entity_id) scored against the masters of a run.

    Only evaluation reads them; matching never does.
    """

    truth: dict[Literal["customer", "product"], Path] = Field(default_factory=dict)
    """Entity -> a CSV of `source,source_key,entity_id`, relative to the project root."""


class QualitySettings(Section):
    """Limits the pipeline's checks enforce; a breach stops the run before anything publishes."""

    max_quarantine_rate: Probability = 0.05
    """The share of a source's records one ingest may quarantine."""
    max_event_reject_rate: Probability = 0.05
    """The share of an event source's events a run may reject (a type or time that does not
    parse, a reference naming no record): more usually means a misconfigured reference."""
    max_id_churn: Probability = 0.2
    """The share of carried-over records whose master id may change in one run."""
    freshness_hours: float = Field(default=36, gt=0)
    """Raw data older than this warns."""
    schedule: str = "0 2 * * *"
    """The daily run of batch sources (cron, UTC)."""
    schedule_enabled: bool = False
    """Whether the daily schedule starts switched on in Dagster (the daemon runs it); off, it can
    still be switched on in the UI."""
    sensor_enabled: bool = False
    """Whether the `new_landing_files` sensor starts switched on in Dagster (the daemon
    evaluates it every minute); off, it can still be switched on in the UI."""
