"""The project's Dagster storage, created once (kept light: no definitions imported)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from e360.config import E360Config
from e360.locks import project_lock


def dagster_home(config: E360Config) -> Path:
    """The project's Dagster storage: run history, event logs, schedule and sensor state.

    Created once, under a lock of its own: two processes creating Dagster's SQLite storages
    at the same time can stamp two alembic heads, after which every run fails.
    """
    home = config.root / ".dagster"
    marker = home / ".initialised"
    if marker.exists():
        return home
    home.mkdir(parents=True, exist_ok=True)
    with project_lock(home / ".init.lock", wait_seconds=config.deployment.lock.wait_seconds):
        if not marker.exists():
            settings = home / "dagster.yaml"
            if not settings.exists():  # a deployment's own settings (e.g. its storage) stay
                # No usage telemetry: e360 runs where nothing may call out.
                settings.write_text("telemetry:\n  enabled: false\n")
            with dg.DagsterInstance.from_config(str(home)) as instance:
                # each storage creates (and stamps) its database when first touched
                instance.get_runs(limit=1)
                instance.get_asset_keys()
                if instance.schedule_storage is not None:  # a deployment may configure none
                    instance.schedule_storage.all_instigator_state()
            marker.touch()
    return home
