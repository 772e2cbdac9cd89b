#!/usr/bin/env python3
"""The e360 CDK app: `cdk synth -c env=dev`, `cdk deploy --all -c env=prod`.

The environment comes from `-c env=<name>` (default `dev`) and is read from
`environments/<name>.yaml`. cdk-nag's AWS Solutions checks run at synthesis; `-c nag=false`
skips them (never for a deployment).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e360_infra.config import InfraConfigError, load_environment
from e360_infra.deployment import build, new_app


def main() -> int:
    app = new_app()
    name = str(app.node.try_get_context("env") or "dev")
    nag = str(app.node.try_get_context("nag") or "true").lower() != "false"
    try:
        env = load_environment(name)
    except InfraConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    build(app, env, nag=nag)
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
