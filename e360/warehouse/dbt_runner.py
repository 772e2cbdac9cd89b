"""The dbt runner's side of publishing: the parsed manifest of the shipped dbt project, the
variables a build runs with, and what a build's run results say.

Dagster invokes the build (`orchestration.assets.publishing`); everything it needs to know about
dbt is here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from e360.config import E360Config
from e360.errors import PublishError
from e360.resources import DBT_PROJECT_DIR
from e360.warehouse import wap
from e360.warehouse.targets import dbt_role_vars

PARTIAL_PARSE = "partial_parse.msgpack"


def parsed_manifest(work_dir: Path) -> Path:
    """The dbt manifest Dagster reads the project's models and tests from, in `work_dir` (see
    `e360.resources.dbt_work_dir`); parsed if stale.

    Parsed into a folder of this process's own and moved into place whole: processes starting
    together (a run beside `e360 ui`) each see a complete manifest, never one being written.
    """
    manifest = work_dir / "manifest.json"
    sources = [
        p
        for p in DBT_PROJECT_DIR.rglob("*")
        if p.is_file()
        and work_dir not in p.parents
        and "logs" not in p.relative_to(DBT_PROJECT_DIR).parts
    ]
    newest = max(p.stat().st_mtime for p in sources)
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        from dbt.cli.main import dbtRunner

        work_dir.mkdir(parents=True, exist_ok=True)
        own = Path(tempfile.mkdtemp(prefix=".parse-", dir=work_dir))
        try:
            result = dbtRunner().invoke(
                [
                    "parse",
                    "--project-dir",
                    str(DBT_PROJECT_DIR),
                    "--profiles-dir",
                    str(DBT_PROJECT_DIR),
                    "--target-path",
                    str(own),
                    "--log-path",
                    str(work_dir / "logs"),
                    "--quiet",
                ]
            )
            if not result.success:
                raise PublishError(f"dbt parse failed: {result.exception}")
            os.replace(own / "manifest.json", manifest)
        finally:
            shutil.rmtree(own, ignore_errors=True)
    return manifest


def build_variables(config: E360Config) -> dict[str, Any]:
    """The `--vars` of a build: where the lake tables are and the audit schemas' suffix.

    They stay the same from run to run, so dbt can reuse its parse (`partial_parse`): dbt
    parses the whole project again whenever a command-line var changes. The run's instant
    travels in the environment instead (`build_environment`).
    """
    settings = config.deployment.warehouse
    variables: dict[str, Any] = {
        "e360_lake_schema": settings.lake_schema,
        "e360_wap_suffix": wap.build_suffix(config),
    }
    if settings.target == "redshift":
        variables.update(dbt_role_vars(config))
    return variables


def build_environment() -> dict[str, str]:
    """The run's one instant, `E360_VALID_AT` (history rows become valid and recency is
    measured at it): as pinned, for reproducible builds and backfills, else the run's clock.
    dbt reads it only while executing (macros/publishing/valid_at.sql), never while parsing."""
    valid_at = os.environ.get("E360_VALID_AT") or f"{datetime.now(UTC):%Y-%m-%d %H:%M:%S}"
    return {"E360_VALID_AT": valid_at}


@contextlib.contextmanager
def partial_parse(kept_in: Path, target_path: Path, key: Mapping[str, Any]) -> Iterator[None]:
    """dbt's saved parse for builds like this one (`key`: the target, its connection and the
    vars, all of which dbt checks the saved parse against): put in `target_path` before the
    build, and kept in `kept_in`, replaced whole, after it. A build in a fresh target folder
    would otherwise parse the whole project again, seconds on every run; dbt itself checks the
    saved parse against every project file and reparses what changed."""
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    kept = kept_in / f"{digest}.msgpack"
    used = target_path / PARTIAL_PARSE
    target_path.mkdir(parents=True, exist_ok=True)
    if kept.exists() and not used.exists():
        shutil.copyfile(kept, used)
    yield
    if used.exists():
        kept_in.mkdir(parents=True, exist_ok=True)
        for stale in kept_in.glob("*.msgpack"):  # a changed connection or vars: parsed anew
            stale.unlink(missing_ok=True)
        own = kept.with_name(f".{os.getpid()}.{kept.name}")
        shutil.copyfile(used, own)
        os.replace(own, kept)


def summarise_run_results(run_results: Mapping[str, Any]) -> dict[str, Any]:
    """Models built, tests passed, failed and skipped, and what failed, from dbt's run results.

    A node dbt skipped (its upstream failed) did not fail: it is counted as skipped, so one
    failed model does not read as dozens of failed tests.
    """
    summary: dict[str, Any] = {
        "models": 0,
        "models_skipped": 0,
        "tests_passed": 0,
        "tests_failed": 0,
        "tests_skipped": 0,
        "failures": [],
    }
    for result in run_results.get("results", []):
        unique_id, status = result["unique_id"], result["status"]
        kind = unique_id.split(".", 1)[0]
        built = kind in ("model", "snapshot", "seed")
        if status == "skipped":
            if kind == "test":
                summary["tests_skipped"] += 1
            elif built:
                summary["models_skipped"] += 1
            continue
        if kind == "test":
            ok = status in ("pass", "warn")
            summary["tests_passed" if ok else "tests_failed"] += 1
        else:
            ok = status in ("success", "no-op")
            summary["models"] += built and ok
        if not ok:
            summary["failures"].append(f"{unique_id}: {result.get('message') or status}")
    return summary
