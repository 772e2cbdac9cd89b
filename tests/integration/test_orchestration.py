"""The Dagster definition: it loads, its schedule and sensor decide right, `e360 ui` serves it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from orchestration.definitions import RUN_JOB, build_definitions, defs
from orchestration.resources import RUN_ID_TAG, E360Resource


@pytest.fixture(scope="module")
def definitions(demo_config_path: Path) -> dg.Definitions:
    return build_definitions(str(demo_config_path), environment="local")


def test_the_definitions_load_with_every_stage_and_check(definitions: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(definitions)
    graph = definitions.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    assert {
        "raw/crm",
        "raw/webshop",
        "standardized/customer",
        "master/customer_xref",
        "master/product_golden",
        "master/customer_review_queue",
        "conformed/events",
        "publish_gate",
        "e360_lake/customer_golden",
        "enterprise/dim_customer",
        "enterprise/fct_events",
        "marketing/mart_marketing__customer_value",
    } <= keys
    checks = {f"{k.asset_key.to_user_string()}:{k.name}" for k in graph.asset_check_keys}
    assert {
        "raw/crm:quarantine_rate",
        "master/customer_golden:masters_unique",
        "master/customer_xref:id_churn",
        "master/product_xref:every_record_mastered",
        "publish_gate:referential_integrity",
    } <= checks
    assert any(name.startswith("enterprise/dim_customer:unique") for name in checks)  # dbt
    raw = graph.get(dg.AssetKey(["raw", "crm"]))
    assert raw.freshness_policy is not None
    groups = {
        graph.get(dg.AssetKey(["raw", "crm"])).group_name,
        graph.get(dg.AssetKey(["enterprise", "dim_customer"])).group_name,
    }
    assert groups == {"ingestion", "publishing"}
    assert definitions.resolve_job_def(RUN_JOB) is not None
    assert definitions.resolve_schedule_def("daily_batch_run").cron_schedule == "0 2 * * *"
    assert {s.name for s in definitions.sensors} >= {"new_landing_files"}


def test_the_module_level_definitions_load_for_dagster_tools(monkeypatch, demo_config_path):
    monkeypatch.setenv("E360_CONFIG", str(demo_config_path))
    loaded = defs()
    assert isinstance(loaded, dg.Definitions)
    with pytest.raises(dg.DagsterInvariantViolationError, match="E360_ENV must be"):
        build_definitions(str(demo_config_path), environment="staging")


def test_matching_some_entities_leaves_the_events_for_a_run_that_masters_all(
    definitions: dg.Definitions, demo_config_path: Path
) -> None:
    """Events carry both entities' master ids: conforming them after mastering customers
    alone would reject every product reference of a project never matched for products."""
    from e360.config import load_config
    from orchestration.assets.matching import EVENTS_KEY
    from orchestration.runner import selection_for

    config = load_config(demo_config_path, environ={})
    graph = definitions.resolve_asset_graph()
    some = selection_for(config, ["match"], entities=["customer"]).resolve(graph)
    every = selection_for(config, ["match"]).resolve(graph)
    assert EVENTS_KEY not in some and EVENTS_KEY in every
    assert some == every - {EVENTS_KEY} - {k for k in every if "product" in k.to_user_string()}


def test_steps_that_touch_networks_retry(definitions: dg.Definitions) -> None:
    graph = definitions.resolve_asset_graph()
    raw = graph.get(dg.AssetKey(["raw", "crm"])).assets_def
    assert raw.op.retry_policy is not None and raw.op.retry_policy.max_retries >= 1
    standardized = graph.get(dg.AssetKey(["standardized", "customer"])).assets_def
    assert standardized.op.retry_policy is None


def test_the_daily_schedule_requests_one_tagged_run_per_day(definitions) -> None:
    schedule = definitions.resolve_schedule_def("daily_batch_run")
    when = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    with dg.build_schedule_context(scheduled_execution_time=when) as context:
        request = schedule.evaluate_tick(context).run_requests[0]
    assert request.run_key == "daily-2026-11-24T02:00"
    assert request.tags[RUN_ID_TAG]


def test_the_sensor_starts_a_run_for_new_or_changed_files_only(
    tmp_path: Path, definitions: dg.Definitions, demo_config_path: Path
) -> None:
    sensor = definitions.resolve_sensor_def("new_landing_files")
    resource = E360Resource(
        config_path=str(demo_config_path),
        overrides_json=json.dumps({"project.root": str(tmp_path)}),
    )

    def tick(cursor: str | None):
        context = dg.build_sensor_context(cursor=cursor, resources={"e360": resource})
        result = sensor.evaluate_tick(context)
        return result, result.cursor

    result, cursor = tick(None)
    assert not result.run_requests and result.skip_message
    crm = tmp_path / "landing" / "crm"
    crm.mkdir(parents=True)
    (crm / "a.csv").write_text("customer_id,email\n1,a@x.com\n")
    (crm / "notes.txt").write_text("not a source file")
    result, cursor = tick(cursor)
    assert len(result.run_requests) == 1
    assert result.run_requests[0].tags["e360/new_files"] == "1"
    result, cursor = tick(cursor)
    assert not result.run_requests
    (crm / "a.csv").write_text("customer_id,email\n1,a@x.com\n2,b@x.com\n")
    result, _ = tick(cursor)
    assert len(result.run_requests) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_e360_ui_serves_the_dagster_ui(tmp_path: Path, demo_config_path: Path) -> None:
    port = _free_port()
    env = {**os.environ, "E360__PROJECT__ROOT": str(tmp_path)}
    command = [
        sys.executable,
        "-m",
        "e360.cli",
        "ui",
        "--config",
        str(demo_config_path),
        "--port",
        str(port),
    ]
    server = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        deadline, body = time.monotonic() + 120, ""
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5) as r:
                    body = r.read().decode()
                    break
            except OSError:
                time.sleep(1)
        assert "dagster_webserver_version" in body, server.stdout.read1().decode()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
            assert "Dagster" in response.read().decode()
        assert (tmp_path / ".dagster").is_dir()  # the project's own run storage
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        # Whatever the server started (Dagster's code server) goes with it.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)


def test_dbt_is_found_beside_the_interpreter_without_path(monkeypatch) -> None:
    # `.venv/bin/e360` runs with no activated environment: dbt must not depend on PATH.
    from orchestration.resources import dbt_resource

    monkeypatch.setenv("PATH", "/nonexistent")
    dbt = dbt_resource("duckdb")
    executable = Path(dbt.dbt_executable)
    assert executable.parent == Path(sys.executable).parent
    version = subprocess.run(
        [str(executable), "--version"], capture_output=True, text=True, timeout=300
    )
    assert version.returncode == 0 and "Core" in version.stdout + version.stderr


def test_schedule_and_sensor_are_off_unless_switched_on_in_config(
    definitions: dg.Definitions, demo_config_path: Path
) -> None:
    schedule = definitions.resolve_schedule_def("daily_batch_run")
    sensor = definitions.resolve_sensor_def("new_landing_files")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    switched_on = build_definitions(
        str(demo_config_path),
        environment="local",
        overrides={"quality.schedule_enabled": True, "quality.sensor_enabled": True},
    )
    dg.Definitions.validate_loadable(switched_on)
    schedule = switched_on.resolve_schedule_def("daily_batch_run")
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.cron_schedule == "0 2 * * *"
    sensor = switched_on.resolve_sensor_def("new_landing_files")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING


_DAEMONS_QUERY = json.dumps(
    {"query": "{ instance { daemonHealth { allDaemonStatuses { daemonType healthy required } } } }"}
).encode()


def _daemon_statuses(port: int) -> dict[str, bool]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=_DAEMONS_QUERY,
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    statuses = body["data"]["instance"]["daemonHealth"]["allDaemonStatuses"]
    return {s["daemonType"]: bool(s["healthy"]) for s in statuses if s["required"]}


def test_e360_ui_daemon_runs_the_dagster_daemon_beside_the_webserver(
    tmp_path: Path, demo_config_path: Path
) -> None:
    """`e360 ui --daemon`: a real dagster-daemon whose heartbeats the web server sees (the
    scheduler and sensor daemons healthy), started from the interpreter's environment with
    no PATH, and stopped together with the web server and every process they started."""
    import psutil

    port = _free_port()
    env = {
        **os.environ,
        "E360__PROJECT__ROOT": str(tmp_path),
        "E360__QUALITY__SENSOR_ENABLED": "true",
        "PATH": "/nonexistent",  # nothing may be found on PATH
    }
    command = [sys.executable, "-m", "e360.cli", "ui", "--daemon"]
    command += ["--config", str(demo_config_path), "--port", str(port)]
    ui = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    started: list[psutil.Process] = []
    try:
        deadline, statuses = time.monotonic() + 240, {}
        while time.monotonic() < deadline and ui.poll() is None:
            try:
                statuses = _daemon_statuses(port)
            except (OSError, KeyError, TypeError, ValueError):
                statuses = {}
            if statuses and statuses.get("SCHEDULER") and statuses.get("SENSOR"):
                break
            time.sleep(1)
        assert ui.poll() is None, ui.stdout.read1().decode() if ui.stdout else ""
        assert statuses.get("SCHEDULER") and statuses.get("SENSOR"), statuses
        started = psutil.Process(ui.pid).children(recursive=True)
        commands = [" ".join(p.cmdline()) for p in started]
        assert any("dagster._daemon run" in c for c in commands), commands
        assert any("dagster_webserver" in c for c in commands), commands
        assert all(
            p.exe() == psutil.Process(ui.pid).exe()
            for p in started
            if p.name().startswith("python")
        )

        ui.send_signal(signal.SIGTERM)
        assert ui.wait(timeout=120) == 0
        _, alive = psutil.wait_procs(started, timeout=60)
        assert not alive, [" ".join(p.cmdline()) for p in alive]
    finally:
        if ui.poll() is None:
            ui.kill()
        for process in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
