"""The run report: `runs/<run_id>/report.json`, plus its summary for the terminal."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


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
    timings: dict[str, float] = field(default_factory=dict)
    ingest: list[dict[str, Any]] = field(default_factory=list)
    standardized: dict[str, int] = field(default_factory=dict)
    entities: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    evaluation: dict[str, Any] = field(default_factory=dict)
    publish: dict[str, Any] = field(default_factory=dict)

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
