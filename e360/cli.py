"""`e360`: a thin command line over the pipeline. Every E360Error ends as one clean message."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from e360.config import E360Config, load_config
from e360.errors import E360Error

app = typer.Typer(
    name="e360",
    help="Enterprise 360 master data: ingest, resolve entities, publish the enterprise layer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _console() -> Console:
    # Bound to the stdout of this call: steps may redirect sys.stdout (dbt's output goes to
    # the run folder) and the terminal must keep showing progress meanwhile.
    return Console(file=sys.stdout)


DEMO_CONFIG = Path(__file__).resolve().parents[1] / "examples" / "demo" / "e360.yaml"
ConfigOption = Annotated[
    Path,
    typer.Option("--config", "-c", envvar="E360_CONFIG", help="Path to e360.yaml."),
]
Entities = Annotated[
    list[str] | None,
    typer.Option("--entity", "-e", help="Only this entity (customer, product); repeatable."),
]


def _load(path: Path) -> E360Config:
    return load_config(path)


def _run(
    config: E360Config,
    stages: Sequence[str],
    *,
    sources: Sequence[str] | None = None,
    entities: Sequence[str] | None = None,
    retrain: bool = False,
) -> None:
    from e360.console import RichProgress, print_summary
    from orchestration.runner import RunFailed, run_pipeline

    console = _console()
    try:
        report = run_pipeline(
            config,
            stages,
            sources=sources,
            entities=entities,
            retrain=retrain,
            progress=RichProgress(console),
        )
    except RunFailed as failed:
        print_summary(console, failed.report, str(failed.report_path))
        raise
    print_summary(console, report, str(config.runs_dir / report.run_id / "report.json"))


@app.command()
def demo(
    customers: Annotated[int, typer.Option(min=20, help="True customers to generate.")] = 2000,
    seed: Annotated[int, typer.Option(help="Seed of the generator.")] = 42,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Where the demo project lives.")
    ] = None,
    config_path: Annotated[Path, typer.Option("--config", "-c")] = DEMO_CONFIG,
) -> None:
    """Generate sample sources and run the whole pipeline on embedded defaults."""
    from e360.demo_data import generate_demo_data

    overrides = {"project.root": str(directory.resolve())} if directory else {}
    config = load_config(config_path, overrides=overrides)
    console = _console()
    console.print(f"Generating demo sources for {customers:,} customers in {config.root}")
    summary = generate_demo_data(config.root, customers=customers, seed=seed)
    console.print(
        f"  {sum(summary.files.values()):,} rows in {len(summary.files)} files; truth: "
        f"{summary.customers:,} customers, {summary.products:,} products"
    )
    _run(config, ("ingest", "standardize", "match", "publish"))


@app.command()
def run(
    config: ConfigOption = Path("e360.yaml"),
    retrain: Annotated[bool, typer.Option(help="Train new model versions first.")] = False,
) -> None:
    """One pipeline run: ingest -> standardize -> match -> publish."""
    _run(_load(config), ("ingest", "standardize", "match", "publish"), retrain=retrain)


@app.command()
def ingest(
    config: ConfigOption = Path("e360.yaml"),
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source; repeatable.")
    ] = None,
) -> None:
    """Land new files from the landing folder in the raw zone (bad rows to quarantine)."""
    _run(_load(config), ("ingest",), sources=source)


@app.command()
def match(
    config: ConfigOption = Path("e360.yaml"),
    entity: Entities = None,
    retrain: Annotated[bool, typer.Option(help="Train a new model version first.")] = False,
) -> None:
    """Standardize and resolve entities: masters, pairs, review queue, conformed events."""
    _run(_load(config), ("standardize", "match"), entities=entity, retrain=retrain)


@app.command()
def publish(config: ConfigOption = Path("e360.yaml")) -> None:
    """Load the master zone into the warehouse and build the dbt enterprise layer."""
    _run(_load(config), ("publish",))


@app.command()
def rerun(
    run_id: Annotated[str, typer.Argument(help="The failed run's id (its runs/ folder name).")],
    config: ConfigOption = Path("e360.yaml"),
) -> None:
    """Re-execute a failed run from its failure: the failed steps and what depends on them."""
    from e360.console import RichProgress, print_summary
    from orchestration.runner import rerun_from_failure

    project = _load(config)
    console = _console()
    report = rerun_from_failure(project, run_id, progress=RichProgress(console))
    print_summary(console, report, str(project.runs_dir / report.run_id / "report.json"))


@app.command()
def ui(
    config: ConfigOption = Path("e360.yaml"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
) -> None:
    """Serve Dagster's web UI on the project: runs, assets, checks, schedule and sensors."""
    from orchestration.runner import dagster_home

    project = _load(config)
    env = {
        **os.environ,
        "E360_CONFIG": str(project.file),
        "DAGSTER_HOME": str(dagster_home(project)),
    }
    _console().print(f"Dagster UI for {project.file} on http://{host}:{port}")
    command = [
        sys.executable,
        "-m",
        "dagster_webserver",
        "-m",
        "orchestration.definitions",
        "-h",
        host,
        "-p",
        str(port),
    ]
    raise typer.Exit(subprocess.call(command, env=env))


def main(argv: Sequence[str] | None = None) -> int:
    try:
        app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except E360Error as exc:
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        return 1
    except typer.Exit as exc:
        return exc.exit_code
    except (typer.Abort, KeyboardInterrupt):
        Console(stderr=True).print("aborted")
        return 130
    except Exception as exc:  # click usage errors carry their own formatting
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            return exc.exit_code
        raise
    return 0


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
