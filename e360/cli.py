"""`e360`: a thin command line over the pipeline. Every E360Error ends as one clean message.

The CLI is the top layer: it may import every other one. The imports inside commands are not
there to dodge a cycle; each pulls in a heavy library (Dagster, Splink, pyiceberg, dbt,
FastAPI, SQLAlchemy, confluent-kafka: about a second to several each) that only its
command needs, so `e360 --help` or `e360 evaluate` does not pay for all of them.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Sequence
from contextlib import closing
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import click
import typer
from rich.console import Console
from rich.markup import escape

from e360.config import E360Config, load_config, parse_yaml
from e360.console import RichProgress, print_summary
from e360.errors import E360Error
from e360.evaluation import evaluate_files, format_evaluation
from e360.locks import holding_project_lock
from e360.resources import DEMO_CONFIG, demo_project_root
from matching.mapped.mapping import load_mapping

app = typer.Typer(
    name="e360",
    help="Enterprise 360 master data: ingest, resolve entities, publish the enterprise layer.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


_DEBUG = {"on": False}  # `--debug`: a failure shows its traceback


@app.callback()
def _global_options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of a failure, not one line.")
    ] = False,
) -> None:
    _DEBUG["on"] = debug


def _console() -> Console:
    # Bound to the stdout of this call: steps may redirect sys.stdout (dbt's output goes to
    # the run folder) and the terminal must keep showing progress meanwhile.
    return Console(file=sys.stdout)


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
    full: bool = False,
) -> None:
    from orchestration.runner import RunFailed, run_pipeline  # start-up: Dagster

    console = _console()
    try:
        report = run_pipeline(
            config,
            stages,
            sources=sources,
            entities=entities,
            retrain=retrain,
            full=full,
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
    from demo import generate_demo_data

    if directory is None and config_path == DEMO_CONFIG:
        directory = demo_project_root()
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
def init(
    landing: Annotated[
        Path, typer.Argument(metavar="LANDING_DIR", help="The folder of landing files.")
    ] = Path("landing"),
    config: Annotated[
        Path, typer.Option("--config", "-c", help="The configuration to write.")
    ] = Path("e360.yaml"),
    force: Annotated[bool, typer.Option(help="Overwrite an existing configuration.")] = False,
) -> None:
    """Profile landing files; write a commented e360.yaml of guessed sources and matching."""
    from rich.table import Table

    from onboarding import init_config, summary_rows  # start-up: Splink (matching defaults)

    proposal = init_config(landing, config, force=force)
    table = Table("source", "guessed", "as", "sure", box=None, title=f"e360 init: {landing}")
    for row in summary_rows(proposal):
        table.add_row(*map(escape, row))
    console = _console()
    console.print(table)
    console.print(f"Wrote {config}; check the lines saying `check`, then: e360 run -c {config}")


@app.command()
def run(
    config: ConfigOption = Path("e360.yaml"),
    retrain: Annotated[bool, typer.Option(help="Train new model versions first.")] = False,
    full: Annotated[
        bool, typer.Option(help="Rescore and re-cluster every record, not only new ones.")
    ] = False,
) -> None:
    """One pipeline run: ingest -> standardize -> match -> publish."""
    _run(_load(config), ("ingest", "standardize", "match", "publish"), retrain=retrain, full=full)


ingest_app = typer.Typer(
    help="Land new data in the raw zone (bad records to quarantine); `status` shows where.",
    no_args_is_help=False,
)
app.add_typer(ingest_app, name="ingest")


@ingest_app.callback(invoke_without_command=True)
def ingest(
    ctx: typer.Context,
    config: ConfigOption = Path("e360.yaml"),
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source; repeatable.")
    ] = None,
    stream: Annotated[
        str | None,
        typer.Option("--stream", help="Consume this Kafka source (until caught up)."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="With --stream: keep consuming until SIGTERM.")
    ] = False,
) -> None:
    """Land new files (or, with --stream, a Kafka source's records) in the raw zone."""
    if ctx.invoked_subcommand is not None:
        return
    if stream is None:
        if follow:
            raise typer.BadParameter("--follow needs --stream SOURCE")
        _run(_load(config), ("ingest",), sources=source)
        return
    _ingest_stream(_load(config), stream, follow)


def _ingest_stream(config: E360Config, name: str, follow: bool) -> None:
    from ingestion.stream import ingest_stream  # start-up: confluent-kafka, pyiceberg

    console = _console()

    def on_batch(total: Any, batch: Any) -> None:
        if follow:
            console.print(
                f"{name}: +{batch.landed:,} landed, +{batch.quarantined:,} quarantined "
                f"(total {total.landed:,} / {total.quarantined:,})",
                highlight=False,
            )

    mode = "until stopped (SIGTERM)" if follow else "until caught up"
    console.print(f"Consuming stream source {name} {mode}", highlight=False)
    result = ingest_stream(
        config,
        name,
        until="stopped" if follow else "caught_up",
        on_batch=on_batch,
        on_event=lambda message: console.print(message, highlight=False) if follow else None,
    )
    console.print(
        f"{name}: {result.records_in:,} records in, {result.landed:,} landed, "
        f"{result.quarantined:,} quarantined in {result.batches} batches",
        highlight=False,
    )


@ingest_app.command("status")
def ingest_status(
    config: ConfigOption = Path("e360.yaml"),
    source: Annotated[
        list[str] | None, typer.Option("--source", "-s", help="Only this source; repeatable.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Per source: last landed offset or file, lag, landed and quarantined counts."""
    from ingestion.status import print_status, source_statuses  # start-up: pyiceberg

    statuses = source_statuses(_load(config), source)
    print_status(_console(), statuses, as_json=as_json)


@app.command()
def match(
    config: ConfigOption = Path("e360.yaml"),
    entity: Entities = None,
    retrain: Annotated[bool, typer.Option(help="Train a new model version first.")] = False,
    full: Annotated[
        bool, typer.Option(help="Rescore and re-cluster every record, not only new ones.")
    ] = False,
) -> None:
    """Standardize and resolve entities: masters, pairs, review queue, conformed events."""
    _run(_load(config), ("standardize", "match"), entities=entity, retrain=retrain, full=full)


class Target(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    redshift = "redshift"


WarehouseTarget = Annotated[
    Target | None,
    typer.Option("--target", "-t", help="Warehouse target (default: deployment.warehouse.target)."),
]


def _with_target(path: Path, target: Target | None) -> E360Config:
    overrides = {"deployment.warehouse.target": target.value} if target else {}
    return load_config(path, overrides=overrides)


@app.command()
def publish(config: ConfigOption = Path("e360.yaml"), target: WarehouseTarget = None) -> None:
    """Load the pinned master zone into the warehouse, build, audit and publish the layer."""
    _run(_with_target(config, target), ("publish",))


@app.command()
def docs(config: ConfigOption = Path("e360.yaml"), target: WarehouseTarget = None) -> None:
    """Generate the dbt documentation site of the enterprise layer."""
    from e360.warehouse.docs import generate_docs  # start-up: dbt

    site = generate_docs(_with_target(config, target))
    _console().print(f"dbt docs: {site}")


@app.command()
def train(
    entity: Annotated[str, typer.Argument(help="customer or product")],
    config: ConfigOption = Path("e360.yaml"),
    from_decisions: Annotated[
        bool,
        typer.Option(
            help="Learn m, u and λ from the stewards' decisions too (match and not a match)."
        ),
    ] = False,
) -> None:
    """Train a new model version on the standardized records; later runs use it (unless a
    version is pinned) and carry master ids over by member overlap."""
    # start-up: pyiceberg, Splink, SQLAlchemy
    from e360.lake import Lake
    from matching.resolution.training import train_entity
    from stewardship.store import DecisionStore

    loaded = _load(config)
    console = _console()
    # one model version at a time: a concurrent `match --retrain` numbers its own
    with (
        holding_project_lock(loaded),
        closing(DecisionStore.from_config(loaded)) as store,
        console.status(f"training the {entity} model"),
    ):
        trained = train_entity(
            loaded,
            Lake.from_config(loaded),
            entity,
            decisions=store if from_decisions else None,
        )
    console.print(
        f"trained [bold]{trained.model.label}[/] on {trained.records:,} records"
        + (f" and {trained.labels:,} steward decisions" if trained.labels else "")
        + f"\nmodel: {trained.model.path}"
    )
    if trained.fit:
        fit = trained.fit
        console.print(
            f"learnt from {fit['matches']:,} match and {fit['non_matches']:,} not-a-match "
            f"labels on {fit['candidates']:,} candidate pairs (λ among them "
            f"{fit['prior']:.3g})"
            + (
                f"; {fit['outside_candidates']:,} labelled pairs are not candidate pairs"
                if fit["outside_candidates"]
                else ""
            )
        )
    for chart in trained.charts:
        console.print(f"chart: {chart}")


@app.command()
def resolve(
    mapping: Annotated[
        Path, typer.Option("--mapping", "-m", help="Mapping file: entity, sources, attributes.")
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for clusters/pairs/rejects and report.")
    ],
) -> None:
    """Resolve any CSV/Parquet files of one entity, described by a mapping file."""
    from matching.mapped.resolver import resolve_mapping, summary_lines  # start-up: Splink

    console = _console()
    report = resolve_mapping(load_mapping(mapping), out, progress=console.print)
    for line in summary_lines(report, out):
        console.print(line, highlight=False, soft_wrap=True)


# --- e360 check and e360 schema: the configuration before a run -----------------------------


@app.command()
def check(
    config: ConfigOption = Path("e360.yaml"),
    sample: Annotated[
        int,
        typer.Option(
            min=2, help="Records per entity standardised at most (above: a uniform sample)."
        ),
    ] = 100_000,
    blocking: Annotated[
        bool, typer.Option(help="Count each blocking rule's comparisons on the landed files.")
    ] = True,
) -> None:
    """Every configuration mistake at once; then, per entity, the comparisons each blocking
    rule generates on the landing files (exit 3: one is over `matching.max_comparisons`)."""
    loaded = _load(config)
    console = _console()
    console.print(f"{loaded.file}: the configuration holds", highlight=False, soft_wrap=True)
    if not blocking:
        return
    # start-up: Splink, the standardisers
    from orchestration.preflight import blocking_estimates, estimate_lines

    estimates = blocking_estimates(loaded, sample_records=sample)
    for line in estimate_lines(estimates):
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    if any(e.over_budget for e in estimates):
        raise typer.Exit(3)


def reference_documents() -> list[Any]:
    """What `docs/configuration.md` documents: `e360.yaml`, and the resolve mapping file once
    its keys are described."""
    from e360.config.reference import Document, keys
    from matching.mapped.mapping import Mapping

    documents = [
        Document(
            "e360.yaml",
            E360Config,
            "The project's configuration (`e360 -c e360.yaml ...`). Environment variables "
            "`E360__SECTION__KEY` override a key (`E360__DEPLOYMENT__ENGINE__TYPE=spark`). "
            "`e360 check` reports every mistake at once; the examples come from "
            "`examples/demo/e360.yaml`.",
            parse_yaml(DEMO_CONFIG.read_text(encoding="utf-8")),
        )
    ]
    if any(key.description for key in keys(Mapping)):
        example = Path(__file__).resolve().parents[1] / "examples" / "resolve" / "customers.yaml"
        documents.append(
            Document(
                "The `e360 resolve` mapping file",
                Mapping,
                "`e360 resolve --mapping M.yaml`: files of one entity and how their columns "
                "map onto its canonical attributes.",
                parse_yaml(example.read_text(encoding="utf-8")) if example.is_file() else {},
            )
        )
    return documents


@app.command()
def schema(
    as_markdown: Annotated[
        bool, typer.Option("--markdown", help="The configuration reference (Markdown) instead.")
    ] = False,
) -> None:
    """Print the JSON Schema of e360.yaml (for editors), or the configuration reference."""
    from e360.config.reference import json_schema, markdown

    if as_markdown:
        text = markdown(reference_documents(), generated_by="e360 schema --markdown")
    else:
        text = json.dumps(json_schema(E360Config), indent=2, ensure_ascii=False) + "\n"
    sys.stdout.write(text)


# --- end of e360 check and e360 schema ------------------------------------------------------


@app.command()
def evaluate(
    truth: Annotated[
        Path, typer.Option(help="Ground truth: source, source_key, entity_id (CSV or Parquet).")
    ],
    clusters: Annotated[
        Path, typer.Option(help="Result: source, source_key, master_id (CSV or Parquet).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the scores as JSON.")] = False,
) -> None:
    """Pairwise, B-cubed and exact-cluster precision / recall / F1 of clusters against truth."""
    result = evaluate_files(clusters, truth)
    lines = [json.dumps(result, indent=2)] if as_json else format_evaluation(result)
    for line in lines:
        _console().print(line, highlight=False, soft_wrap=True)


@app.command()
def rerun(
    run_id: Annotated[str, typer.Argument(help="The failed run's id (its runs/ folder name).")],
    config: ConfigOption = Path("e360.yaml"),
) -> None:
    """Re-execute a failed run from its failure: the failed steps and what depends on them."""
    from orchestration.runner import rerun_from_failure  # start-up: Dagster

    project = _load(config)
    console = _console()
    report = rerun_from_failure(project, run_id, progress=RichProgress(console))
    print_summary(console, report, str(project.runs_dir / report.run_id / "report.json"))


@app.command()
def ui(
    config: ConfigOption = Path("e360.yaml"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 3000,
    daemon: Annotated[
        bool,
        typer.Option(
            help="Also run the Dagster daemon (`dagster-daemon run`), which ticks the schedule "
            "and sensors and runs queued runs; both stop together."
        ),
    ] = False,
) -> None:
    """Serve Dagster's web UI on the project: runs, assets, checks, schedule and sensors.

    The schedule and the sensor only fire while a Dagster daemon runs: `--daemon` starts one
    beside the web server (switch them on in the UI, or from the start with
    `quality.schedule_enabled` / `quality.sensor_enabled`)."""
    import signal
    import subprocess

    from orchestration.runner import dagster_home  # start-up: Dagster

    project = _load(config)
    env = {
        **os.environ,
        "E360_CONFIG": str(project.file),
        "DAGSTER_HOME": str(dagster_home(project)),
    }
    _console().print(
        f"Dagster UI for {project.file} on http://{host}:{port}"
        + (" with the Dagster daemon" if daemon else "")
    )
    definitions = ["-m", "orchestration.definitions"]
    # Both from the running interpreter's environment, never whatever PATH finds first.
    webserver = [
        sys.executable,
        "-m",
        "dagster_webserver",
        *definitions,
        "-h",
        host,
        "-p",
        str(port),
    ]
    sys.stdout.flush()
    if not daemon:
        # Become the web server: a signal meant for `e360 ui` (Ctrl-C, a supervisor's
        # SIGTERM) then reaches it and its code server, and nothing is left behind.
        os.execve(sys.executable, webserver, env)
    daemon_command = [sys.executable, "-m", "dagster._daemon", "run", *definitions]

    class _Stop(Exception):
        pass

    def _stop(_signum: int, _frame: object) -> None:
        raise _Stop

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, _stop)
    code = 0
    children: list[subprocess.Popen[bytes]] = []
    try:
        # Each in a session of its own, so stopping one stops its code servers too; `e360 ui`
        # stays to stop both when either ends or a signal arrives.
        for command in (daemon_command, webserver):
            children.append(subprocess.Popen(command, env=env, start_new_session=True))
        _, status = os.wait()  # until the first child ends: the other goes with it
        code = os.waitstatus_to_exitcode(status) or 1
    except _Stop:
        pass
    finally:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGTERM)
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired, ChildProcessError):
                child.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(child.pid, signal.SIGKILL)  # its code servers, if still there
    raise typer.Exit(code)


steward_app = typer.Typer(
    help="The data steward app: review queue, decisions, merges and splits, audit.",
    no_args_is_help=True,
)
app.add_typer(steward_app, name="steward")


@steward_app.command("serve")
def steward_serve(
    config: ConfigOption = Path("e360.yaml"),
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8360,
) -> None:
    """Serve the steward web app (sign in with a user made by `e360 steward add-user`)."""
    from stewardship.app.server import serve  # start-up: FastAPI, SQLAlchemy, pyiceberg

    project = _load(config)
    _console().print(f"e360 steward app for {project.file} on http://{host}:{port}")
    serve(project, host=host, port=port)


@steward_app.command("add-user")
def steward_add_user(
    name: Annotated[str, typer.Argument(help="The user name (an e-mail for OIDC users).")],
    role: Annotated[str, typer.Option(help="viewer, steward or admin.")] = "steward",
    config: ConfigOption = Path("e360.yaml"),
    oidc: Annotated[
        bool, typer.Option(help="No password: the user signs in through the load balancer.")
    ] = False,
    password_env: Annotated[
        str, typer.Option(help="Read the password from this environment variable if set.")
    ] = "E360_STEWARD_PASSWORD",
) -> None:
    """Add a steward app user; the password comes from $E360_STEWARD_PASSWORD or a prompt."""
    # start-up: SQLAlchemy, argon2
    from stewardship.store import DecisionStore
    from stewardship.users import UserStore

    password = None
    if not oidc:
        password = os.environ.get(password_env) or typer.prompt(
            f"Password for {name}", hide_input=True, confirmation_prompt=True
        )
    store = DecisionStore.from_config(_load(config))
    try:
        UserStore(store).add(name, role, password, actor="cli")
    finally:
        store.close()
    _console().print(f"Added {escape(name)} ({role}).")


def main(argv: Sequence[str] | None = None) -> int:
    _DEBUG["on"] = False
    try:
        # Not standalone, click hands back the code of a `typer.Exit` instead of exiting.
        code = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except Exception as exc:
        quiet = (typer.Exit, typer.Abort, click.exceptions.Exit, click.ClickException)
        if _DEBUG["on"] and not isinstance(exc, quiet):
            Console(stderr=True).print_exception(show_locals=False)
        return _failed(exc)
    except KeyboardInterrupt:
        Console(stderr=True).print("aborted")
        return 130
    return code if isinstance(code, int) else 0


def _failed(exc: Exception) -> int:
    """The exit code of a failure, and its one line (usage errors carry their own)."""
    if isinstance(exc, E360Error):
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        return 1
    if isinstance(exc, OSError):
        # A folder that cannot be created, a file without permission: the path says which.
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(_os_error(exc))}", highlight=False, soft_wrap=True
        )
        return 1
    if isinstance(exc, typer.Exit | click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.ClickException):
        exc.show()
        return exc.exit_code
    if isinstance(exc, typer.Abort | click.exceptions.Abort):
        Console(stderr=True).print("aborted")
        return 130
    # Not a user's mistake but a fault of e360 or its surroundings: still one line, and
    # `--debug` for the traceback to report.
    Console(stderr=True).print(
        f"[bold red]error:[/] {escape(f'{type(exc).__name__}: {exc}')} "
        "(run with --debug for the traceback)",
        highlight=False,
        soft_wrap=True,
    )
    return 1


def _os_error(exc: OSError) -> str:
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    reason = exc.strerror or str(exc)
    return f"{paths}: {reason}" if paths else reason


def entrypoint() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entrypoint()
