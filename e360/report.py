"""The run report: `runs/<run_id>/report.json`, plus its summary for the terminal.

Each step of a run records its part as a small JSON file under `runs/<run_id>/parts/` the
moment it finishes, so a run that fails halfway still reports what it did; the report is
assembled from the parts when the run ends.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

# section -> how its parts combine: a list of records or a mapping keyed by the part's key
_LIST_SECTIONS = ("ingest", "events")
_DICT_SECTIONS = ("standardized", "entities", "evaluation", "publish", "timings", "checks")


@dataclass
class RunReport:
    run_id: str
    config_file: str
    config_fingerprint: str
    stages: list[str]
    started_at: str
    finished_at: str | None = None
    status: str = "running"
    error: str | None = None
    dagster_run_id: str | None = None
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    step_timings: dict[str, float] = field(default_factory=dict)  # seconds per step
    ingest: list[dict[str, Any]] = field(default_factory=list)
    standardized: dict[str, int] = field(default_factory=dict)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)
    publish: dict[str, Any] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.as_dict(), indent=2, default=str))
        tmp.replace(path)

    @classmethod
    def read(cls, path: Path) -> RunReport:
        return cls(**json.loads(path.read_text()))

    def add_parts(self, run_dir: Path) -> None:
        """Fold in every part the run's steps recorded, in the order they were written."""
        parts = sorted((run_dir / "parts").glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
        for path in parts:
            part = json.loads(path.read_text())
            section, key, value = part["section"], part["key"], part["value"]
            if section == "timings":
                stage = key.split("/", 1)[0]
                self.timings[stage] = round(self.timings.get(stage, 0.0) + value, 3)
                self.step_timings[key] = value
            elif section in _LIST_SECTIONS:
                getattr(self, section).append(value)
            elif section in _DICT_SECTIONS:
                getattr(self, section)[key] = value


def write_part(run_dir: Path, section: str, key: str, value: Any) -> None:
    """Record one step's contribution to the run report."""
    if section not in _LIST_SECTIONS + _DICT_SECTIONS:
        raise ValueError(f"unknown report section {section!r}")
    folder = run_dir / "parts"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{section}--{key.replace('/', '_')}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"section": section, "key": key, "value": value}, default=str))
    tmp.replace(path)
