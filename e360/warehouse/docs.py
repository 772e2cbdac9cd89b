"""`e360 docs`: the dbt documentation site of the enterprise layer, with the warehouse's
catalog (column types, row counts) read from the configured target."""

from __future__ import annotations

import json
from pathlib import Path

from e360.config import E360Config
from e360.errors import PublishError
from e360.resources import DBT_PROJECT_DIR
from e360.warehouse import environment
from e360.warehouse.targets import dbt_environment


def generate_docs(config: E360Config, out: Path | None = None) -> Path:
    """Write the site under `<root>/docs/dbt` (index.html and a self-contained
    static_index.html); returns the static page."""
    from dbt.cli.main import dbtRunner

    settings = config.deployment.warehouse
    target_path = out or config.root / "docs" / "dbt"
    target_path.mkdir(parents=True, exist_ok=True)
    variables = json.dumps({"e360_lake_schema": settings.lake_schema})
    args = [
        "docs", "generate", "--static",
        "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR),
        "--target", settings.target, "--target-path", str(target_path),
        "--log-path", str(target_path / "logs"), "--vars", variables, "--quiet",
    ]  # fmt: skip
    with environment(dbt_environment(config)):
        result = dbtRunner().invoke(args)
    if not result.success:
        raise PublishError(f"dbt docs generate failed: {result.exception or 'see the dbt log'}")
    return target_path / "static_index.html"
