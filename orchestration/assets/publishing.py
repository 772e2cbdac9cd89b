"""Publishing: the publish gate, the load of the master zone into the warehouse, and dbt.

The gate is the last stop before anything reaches the warehouse: its blocking check fails the
run, and the warehouse keeps what it had, when the master zone contradicts itself. dbt then
writes the published layers into `<schema>__wap` (on DuckDB into a copy of the warehouse
file), audits them with every test and only then publishes them (`e360.warehouse.wap`): a
failed test leaves the published layer as it was.
"""

import contextlib
import json
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import dagster as dg
from dagster import AssetExecutionContext
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from packaging import version

from e360.config import E360Config
from e360.errors import PublishError
from e360.lake import Lake
from e360.resources import dbt_work_dir
from e360.warehouse import LAKE_TABLES, environment, staging, wap
from e360.warehouse.dbt_runner import (
    build_environment,
    build_variables,
    parsed_manifest,
    partial_parse,
    summarise_run_results,
)
from e360.warehouse.gate import integrity_problems
from e360.warehouse.loaders import load_lake
from e360.warehouse.targets import dbt_environment
from orchestration.assets.ingestion import NETWORK_RETRY
from orchestration.assets.matching import EVENTS_KEY, MASTER_ASSET_TABLES, master_key

GATE_KEY = dg.AssetKey("publish_gate")
SNAPSHOTS_FILE = "published_snapshots.json"


def publish_gate(config: Any) -> dg.AssetsDefinition:
    deps = [EVENTS_KEY] + [master_key(e, t) for e in config.entities for t in MASTER_ASSET_TABLES]

    @dg.asset(
        key=GATE_KEY,
        group_name="publishing",
        description="Pins the master-zone snapshots to publish and checks they agree",
        deps=deps,
        check_specs=[
            dg.AssetCheckSpec(
                "referential_integrity",
                asset=GATE_KEY,
                blocking=True,
                description="Events and xrefs point only at masters that exist",
            )
        ],
        required_resource_keys={"e360", "progress"},
    )
    def _gate(context: AssetExecutionContext) -> dg.MaterializeResult:
        e360 = context.resources.e360
        lake: Lake = e360.lake
        with e360.step(context, "publish", "gate"):
            snapshots = {
                table: lake.current_snapshot_id(zone, table) for zone, table in LAKE_TABLES.values()
            }
            problems = integrity_problems(lake, snapshots)
        e360.record(context, "publish", "snapshots", snapshots)
        (e360.run_dir(context) / SNAPSHOTS_FILE).write_text(json.dumps(snapshots))
        return dg.MaterializeResult(
            metadata={"snapshots": dg.MetadataValue.json(snapshots)},
            check_results=[
                dg.AssetCheckResult(
                    check_name="referential_integrity",
                    passed=not problems,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"problems": dg.MetadataValue.json(problems)},
                    description="; ".join(problems) or "consistent",
                )
            ],
        )

    return _gate


def warehouse_load() -> dg.AssetsDefinition:
    @dg.multi_asset(
        name="warehouse_lake_load",
        group_name="publishing",
        specs=[
            dg.AssetSpec(
                dg.AssetKey(["e360_lake", name]),
                deps=[GATE_KEY],
                kinds={"sql"},
                description=f"{zone}.{table} loaded into the warehouse for dbt",
            )
            for name, (zone, table) in LAKE_TABLES.items()
        ],
        retry_policy=NETWORK_RETRY,
        required_resource_keys={"e360", "progress"},
    )
    def _load(context: AssetExecutionContext) -> Iterator[dg.MaterializeResult]:
        e360 = context.resources.e360
        config = e360.config
        with e360.step(context, "publish", "load"):
            # DuckDB: into a copy of the warehouse file, so readers of it never block publish
            loaded = load_lake(
                staging.start(config),
                e360.lake,
                _pinned_snapshots(context, e360),
                e360.run_id(context),
            )
        e360.record(context, "publish", "loaded", loaded)
        for name, rows in loaded.items():
            yield dg.MaterializeResult(asset_key=["e360_lake", name], metadata={"rows": rows})

    return _load


def _pinned_snapshots(context: AssetExecutionContext, e360: Any) -> Mapping[str, int | None]:
    """The snapshots this run's gate approved; in a re-execution, the gate's latest approval."""
    pinned = e360.run_dir(context) / SNAPSHOTS_FILE
    if pinned.exists():
        return json.loads(pinned.read_text())
    event = context.instance.get_latest_materialization_event(GATE_KEY)
    if event is None or event.asset_materialization is None:
        return {}
    value = event.asset_materialization.metadata.get("snapshots")
    return dict(value.value) if value is not None else {}


class _Dbt(DbtCliResource):
    """dbt as e360 runs it: without the warehouse handle dagster-dbt opens in this process
    before each build (it loads the project and profile, seconds of CPU) for row counts and
    column metadata, which e360 never asks of it."""

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None


class _InstalledDbt(_Dbt):
    """dbt from this environment: its version is the dbt-core imported here. dagster-dbt would
    ask a `dbt --version` process for it on every build - a second dbt start-up, seconds of CPU.
    """

    @cached_property
    def _cli_version(self) -> version.Version:
        from dbt.version import __version__

        return version.parse(__version__)


def _dbt_cli(**settings: Any) -> DbtCliResource:
    beside = Path(sys.executable).parent / "dbt"
    installed = Path(settings["dbt_executable"]) == beside
    return (_InstalledDbt if installed else _Dbt)(**settings)


class _Translator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "publishing"


def dbt_enterprise_assets(config: E360Config) -> dg.AssetsDefinition:
    manifest = parsed_manifest(dbt_work_dir(config.root))

    @dbt_assets(
        manifest=manifest,
        name="enterprise_layer",
        dagster_dbt_translator=_Translator(),
        retry_policy=NETWORK_RETRY,
        required_resource_keys={"e360", "progress", "dbt"},
    )
    def _enterprise(context: AssetExecutionContext):
        e360 = context.resources.e360
        published_config, run_dir = e360.config, e360.run_dir(context)
        config = staging.resume(published_config)  # where the load step loaded (DuckDB)
        settings = config.deployment.warehouse
        # the configuration names the warehouse; the resource supplies the project
        dbt = _dbt_cli(
            project_dir=context.resources.dbt.project_dir,
            profiles_dir=context.resources.dbt.profiles_dir,
            target=settings.target,
            dbt_executable=context.resources.dbt.dbt_executable,
        )
        variables, connection = build_variables(config), dbt_environment(config)
        target_path = run_dir / "dbt"
        with (
            e360.step(context, "publish", "dbt build"),
            environment({**connection, **build_environment()}),
            (run_dir / "dbt.log").open("a") as out,
        ):
            wap.prepare(config, wap.stateful_relations(manifest))
            # dbt's saved parse depends on the connection: one per project (and per target)
            parse_key = {"target": settings.target, **connection, **variables}
            with partial_parse(config.root / "dbt" / "partial_parse", target_path, parse_key):
                invocation = dbt.cli(
                    ["build", "--vars", json.dumps(variables)],
                    context=context,
                    raise_on_error=False,
                    target_path=target_path,
                )
                # dagster-dbt echoes every dbt event to stdout: keep them in the run folder.
                with contextlib.redirect_stdout(out):
                    events = list(invocation.stream())
            results = invocation.get_artifact("run_results.json")
            summary = summarise_run_results(results)
            e360.record(context, "publish", "dbt", summary)
            if not invocation.is_successful():
                # the audit failed: report the checks, publish nothing
                yield from (e for e in events if isinstance(e, dg.AssetCheckResult))
                failures = "\n  ".join(summary["failures"]) or "see the dbt log"
                kept = f"the *{wap.WAP_SUFFIX} schemas"
                if wap.builds_in_place(config):
                    kept = str(config.warehouse_path)  # the staging copy
                error = PublishError(
                    "dbt build failed its audit; nothing was published (the rejected build "
                    f"is in {kept}):\n  {failures}"
                )
                # the data will fail the same way again: no retry
                raise dg.Failure(description=str(error), allow_retries=False) from error
        with e360.step(context, "publish", "swap"), environment(dbt_environment(config)):
            published = wap.publish(config)
            staging.finish(published_config)
        e360.record(context, "publish", "published_schemas", published)
        yield from events

    return _enterprise
