"""`project` and `paths`, and `E360Config`: the whole `e360.yaml`, one attribute per section,
with the folders and files it names resolved against the project root.

Relative paths resolve against the config file's folder (`project.root`) and then against the
project root (everything under `paths`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, PrivateAttr

from e360.config.base import Section
from e360.config.deployment import DeploymentSettings
from e360.config.entities import EntityConfig
from e360.config.evaluation import EvaluationSettings, QualitySettings
from e360.config.sources import SourceConfig
from e360.config.stewardship import StewardshipSettings
from e360.entities import DEFAULT_ID_PREFIX, MasteredEntity


class ProjectSettings(Section):
    """`project`: the project's name and root folder (relative: to the configuration file)."""

    name: str = "e360"
    """The project's name: it prefixes run ids and names the warehouse project."""
    root: Path = Path(".")
    """The project's root folder; relative: to the configuration file's folder."""


class PathSettings(Section):
    """`paths`: the project's folders, relative to the project root."""

    landing: Path = Path("landing")
    """Where batch sources deliver their files (each source's `path` is a glob under it)."""
    lake: Path = Path("lake")
    """The embedded lake: Iceberg tables and their SQL catalog (catalog type `sql`)."""
    runs: Path = Path("runs")
    """One folder per run: its report, logs and dbt output."""
    models: Path = Path("models")
    """Trained matching models, one versioned file per entity and training."""


class E360Config(Section):
    """The whole configuration, one attribute per section of `e360.yaml`."""

    project: ProjectSettings = ProjectSettings()
    """The project's name and root."""
    paths: PathSettings = PathSettings()
    """The project's folders."""
    deployment: DeploymentSettings = DeploymentSettings()
    """Where the project runs: catalog, engine, warehouse, lock."""
    sources: dict[str, SourceConfig] = Field(min_length=1)
    """Every source by name (lower-case letters, digits and single '_'): what it sends and how it
    maps.
    """
    entities: dict[Literal["customer", "product"], EntityConfig]
    """How customers and products are resolved; both are required."""
    evaluation: EvaluationSettings = EvaluationSettings()
    """Ground truth to score runs against (tests, benchmarks)."""
    quality: QualitySettings = QualitySettings()
    """Limits a run must hold before anything publishes."""
    stewardship: StewardshipSettings = StewardshipSettings()
    """The steward decision store and the steward app's sign-in."""

    _file: Path = PrivateAttr(default=Path("e360.yaml"))
    _fingerprint: str = PrivateAttr(default="")
    _overrides: dict[str, Any] = PrivateAttr(default_factory=dict)

    @property
    def file(self) -> Path:
        return self._file

    @property
    def overrides(self) -> dict[str, Any]:
        """The explicit overrides it was loaded with (to load it again the same way)."""
        return dict(self._overrides)

    @property
    def fingerprint(self) -> str:
        """A hash of the effective configuration: runs record it to be reproducible."""
        return self._fingerprint

    @property
    def root(self) -> Path:
        root = self.project.root
        return root if root.is_absolute() else (self._file.parent / root).resolve()

    def _under_root(self, path: Path) -> Path:
        return path if path.is_absolute() else self.root / path

    @property
    def landing_dir(self) -> Path:
        return self._under_root(self.paths.landing)

    @property
    def lake_dir(self) -> Path:
        return self._under_root(self.paths.lake)

    @property
    def runs_dir(self) -> Path:
        return self._under_root(self.paths.runs)

    @property
    def models_dir(self) -> Path:
        return self._under_root(self.paths.models)

    @property
    def lock_file(self) -> Path:
        """The project lock: in the lake folder, or the project root when the lake is remote."""
        settings = self.deployment.lock
        if settings.path is not None:
            return self._under_root(settings.path)
        if self.deployment.catalog.type == "sql":
            return self.lake_dir / ".e360.lock"
        return self.root / ".e360.lock"

    @property
    def warehouse_path(self) -> Path:
        return self._under_root(self.deployment.warehouse.path)

    @property
    def steward_store_url(self) -> str:
        url = self.stewardship.url
        if url is None:
            return f"sqlite:///{self.root / 'steward' / 'steward.db'}"
        return os.path.expandvars(url)  # e.g. postgresql://e360:${E360_STEWARD_PASSWORD}@...

    def truth_file(self, entity: MasteredEntity) -> Path | None:
        path = self.evaluation.truth.get(entity)
        return None if path is None else self._under_root(path)

    def contract_file(self, source: SourceConfig) -> Path | None:
        """A source's contract file; relative paths are relative to the configuration file."""
        if source.contract is None:
            return None
        path = source.contract
        return path if path.is_absolute() else (self._file.parent / path).resolve()

    def sources_of(self, entity: str) -> dict[str, SourceConfig]:
        return {name: s for name, s in self.sources.items() if s.entity == entity}

    def id_prefix(self, entity: MasteredEntity) -> str:
        return self.entities[entity].id_prefix or DEFAULT_ID_PREFIX[entity]
