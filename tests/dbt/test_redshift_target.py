"""The redshift target without a cluster: `dbt compile --target redshift` with a dummy profile,
the compiled SQL parsed as Redshift SQL (sqlglot), the Redshift specifics in the manifest
(dist / sort, grants, contracts, PII tags) and the masking plan - including the build failing
when a PII column cannot be masked. Also the project conventions domain teams rely on."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import sqlglot
import yaml

dbt_main = pytest.importorskip("dbt.cli.main")

PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"
OFFLINE = {
    "E360_REDSHIFT_HOST": "127.0.0.1",
    "E360_REDSHIFT_PORT": "1",  # nothing listens there: a connection attempt would fail
    "E360_REDSHIFT_USER": "e360_publisher",
    "E360_REDSHIFT_DBNAME": "analytics",
}
PUBLISHED = ("enterprise", "history", "marketing", "supply_chain")


def dbt(args: list[str], work: Path) -> Any:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
        for key, value in OFFLINE.items():
            mp.setenv(key, value)
        # fmt: off
        flags = [
            "--target", "redshift", "--no-populate-cache", "--no-introspect",
            "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
            "--target-path", str(work / "target"), "--log-path", str(work / "logs"),
        ]
        # fmt: on
        return dbt_main.dbtRunner().invoke([*args, *flags])


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("redshift")
    result = dbt(["compile"], work)
    assert result.success, result.exception
    manifest = json.loads((work / "target" / "manifest.json").read_text())
    return work / "target" / "compiled" / "e360", manifest


def models(manifest: dict[str, Any], folder: str) -> list[dict[str, Any]]:
    return [
        n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["path"].startswith(f"marts/{folder}/")
    ]


def test_compiled_models_parse_as_redshift_sql(compiled: tuple[Path, dict]) -> None:
    root, _ = compiled
    files = sorted((root / "models").rglob("*.sql"))  # models and their data tests
    enterprise = [f for f in files if f.parent.name == "enterprise"]
    assert len(enterprise) == 8 and len(files) > 100
    for path in files:
        statements = sqlglot.parse(path.read_text(), dialect="redshift")
        assert statements and all(s is not None for s in statements), path
        # a statement sqlglot could not understand would come back as an opaque Command
        assert not any(isinstance(s, sqlglot.exp.Command) for s in statements), path


def test_redshift_flavoured_sql_is_compiled(compiled: tuple[Path, dict]) -> None:
    root, _ = compiled
    mart = (root / "models/marts/marketing/mart_marketing__customer_value.sql").read_text()
    assert "listagg(distinct channel" in mart
    dim = (root / "models/marts/enterprise/dim_customer.sql").read_text()
    assert "varchar(65535)" in dim  # no silent varchar(256) truncation before hashing


def test_enterprise_models_have_contracts_keys_and_grants(compiled: tuple[Path, dict]) -> None:
    _, manifest = compiled
    enterprise = models(manifest, "enterprise")
    assert {n["name"] for n in enterprise} >= {
        "dim_customer", "dim_product", "fct_events", "bridge_master_xref",
        "bridge_master_id_survivor", "dim_customer_history", "dim_product_history",
        "bridge_master_xref_history",
    }  # fmt: skip
    for node in enterprise:
        config = node["config"]
        assert config["contract"]["enforced"], node["name"]
        assert config.get("dist") and config.get("sort"), node["name"]
        assert config["grants"] == {"select": ["role domain_reader", "role data_steward"]}
        assert node["description"].strip(), node["name"]
        for column in node["columns"].values():
            assert column["description"].strip(), (node["name"], column["name"])
            assert column["data_type"], (node["name"], column["name"])
    snapshots = [n for n in manifest["nodes"].values() if n["resource_type"] == "snapshot"]
    assert {n["schema"] for n in snapshots} == {"history"}
    assert all(n["config"]["grants"] == {"select": ["role data_steward"]} for n in snapshots)


def _pii_columns(manifest: dict[str, Any]) -> set[tuple[str, str]]:
    out = set()
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "snapshot") and node["schema"] in PUBLISHED:
            for column in node["columns"].values():
                if (column.get("meta") or {}).get("pii") or (
                    (column.get("config") or {}).get("meta") or {}
                ).get("pii"):
                    out.add((node["name"], column["name"]))
    return out


def test_masking_plan_covers_every_pii_column(compiled: tuple[Path, dict], tmp_path: Path) -> None:
    _, manifest = compiled
    pii = _pii_columns(manifest)
    assert ("dim_customer", "email") in pii and ("mart_marketing__customer_value", "email") in pii
    result = dbt(["compile", "--inline", "{{ e360_masking_plan() }}"], tmp_path)
    assert result.success, result.exception
    plan = result.result.results[0].node.compiled_code.strip().splitlines()
    masked = {(line.split(" on ")[1].split(".")[-1].split(" ")[0].strip('"'),
               line.split("(")[1].split(")")[0].strip('"'))
              for line in plan if " to public " in line}  # fmt: skip
    assert masked == pii
    for model, column in pii:
        grants = [line for line in plan if f'"{model}" ("{column}")' in line]
        assert len(grants) == 3, (model, column)  # PUBLIC masked, two privileged roles
        assert any(
            "e360_pii_unmask_" in g and 'role "data_steward" priority 100' in g for g in grants
        )


def test_a_pii_column_without_a_masking_policy_fails_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # only varchar policies: dim_customer.date_of_birth (a PII date) can no longer be masked
    varchar_only = {"e360_masking_policies": {"varchar": {"mask": "m", "unmask": "u"}}}
    result = dbt(
        ["compile", "--inline", "{{ e360_masking_plan() }}", "--vars", json.dumps(varchar_only)],
        tmp_path,
    )
    assert not result.success
    assert "date_of_birth has no masking policy" in capsys.readouterr().out


def test_domain_marts_use_only_the_enterprise_layer(compiled: tuple[Path, dict]) -> None:
    _, manifest = compiled
    enterprise = {n["unique_id"] for n in models(manifest, "enterprise")}
    domains = [d.name for d in (PROJECT_DIR / "models" / "marts").iterdir()
               if d.is_dir() and d.name != "enterprise"]  # fmt: skip
    assert set(domains) >= {"marketing", "supply_chain"}
    for domain in domains:
        assert (PROJECT_DIR / "models/marts" / domain / f"_{domain}__models.yml").exists()
        for node in models(manifest, domain):
            parents = set(node["depends_on"]["nodes"])
            assert parents and parents <= enterprise, (node["name"], parents - enterprise)
        exposures = [e for e in manifest["exposures"].values()
                     if e["original_file_path"].startswith(f"models/marts/{domain}/")]  # fmt: skip
        assert exposures, domain


def test_every_folder_has_its_models_file_and_sources_have_freshness() -> None:
    for folder in (PROJECT_DIR / "models").rglob("*"):
        if folder.is_dir() and any(folder.glob("*.sql")):
            assert (folder / f"_{folder.name}__models.yml").exists(), folder
    sources = yaml.safe_load(
        (PROJECT_DIR / "models/staging/e360_lake/_e360_lake__sources.yml").read_text()
    )["sources"][0]["tables"]
    fresh = {t["name"] for t in sources if (t.get("config") or {}).get("freshness")}
    assert {"loads", "events"} <= fresh


def test_published_schemas_agree_between_dbt_and_python() -> None:
    from e360.warehouse import wap

    configured = {
        config.get("+schema")
        for config in yaml.safe_load((PROJECT_DIR / "dbt_project.yml").read_text())["models"][
            "e360"
        ]["marts"].values()
        if isinstance(config, dict) and config.get("+schema")
    }
    assert set(wap.published_schemas()) == configured | {"history"}
    assert os.path.isdir(PROJECT_DIR / "snapshots")
