"""`e360 run` on a source whose mapping combines columns and whose CSV is latin-1, ';'-delimited:
the values land in the raw zone as written and in the standardized zone combined."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from demo import generate_demo_data
from e360.cli import main
from e360.config import SourceConfig, load_config
from e360.errors import IngestError
from e360.lake import Lake
from ingestion.batch import ingest_source

LEGACY = {
    "entity": "customer",
    "format": "csv",
    "path": "legacy/*.csv",
    "key": "ref",
    "csv": {"encoding": "latin-1", "delimiter": ";"},
    "mapping": {
        "first_name": "prénom",
        "last_name": "nom",
        "address_line1": "{numéro} {rue}",
        "city": "ville",
        "postcode": "cp",
        "email": "email",
    },
}
LEGACY_CSV = (
    "ref;prénom;nom;numéro;rue;ville;cp;email\n"
    "L1;José;García;12;Rue de l'Église;Málaga;29001;jose@example.es\n"
    "L2;Zoë;Müller;;Königstraße;Köln;50667;zoe@example.de\n"
    'L3;Ana;"Ruiz; Pérez";7;"Calle ""Mayor""";Sevilla;41001;\n'
    "L4;Luis;Ortega;; ;Cádiz;11001;luis@example.es\n"
)


@pytest.fixture
def project(tmp_path: Path, demo_config_path: Path) -> Path:
    """The demo configuration and small generated sources, plus the legacy source."""
    data = yaml.safe_load(demo_config_path.read_text())
    data["project"]["root"] = str(tmp_path)
    data["quality"] = {"max_quarantine_rate": 0.2}  # 60 customers: 3 malformed rows are 7%
    data["sources"]["legacy"] = LEGACY
    config = tmp_path / "e360.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    generate_demo_data(tmp_path, customers=60, seed=3)
    (tmp_path / "landing" / "legacy").mkdir(parents=True)
    (tmp_path / "landing" / "legacy" / "export.csv").write_bytes(LEGACY_CSV.encode("latin-1"))
    return config


def test_run_reads_latin1_semicolons_and_combines_columns(project: Path) -> None:
    assert main(["run", "--config", str(project)]) == 0
    lake = Lake.from_config(load_config(project, environ={}))

    raw = {r["ref"]: r for r in lake.read("raw", "legacy__customer").to_pylist()}
    assert sorted(raw) == ["L1", "L2", "L3", "L4"]  # nothing quarantined
    assert (raw["L2"]["rue"], raw["L2"]["ville"]) == ("Königstraße", "Köln")
    assert (raw["L3"]["nom"], raw["L3"]["rue"]) == ("Ruiz; Pérez", 'Calle "Mayor"')

    standardized = {
        r["source_key"]: r
        for r in lake.read("standardized", "customer").to_pylist()
        if r["source"] == "legacy"
    }
    assert {key: r["address_line1"] for key, r in standardized.items()} == {
        "L1": "12 rue de leglise",
        "L2": "konigstrasse",  # no number: no leading separator
        "L3": "7 calle mayor",
        "L4": None,  # both parts blank: null, not an empty address
    }
    assert standardized["L1"]["first_name"] == "jose"
    assert standardized["L3"]["last_name"] == "ruiz perez"
    assert standardized["L2"]["city"] == "koln"

    xref = lake.read("master", "customer_xref").to_pylist()
    mastered = {r["source_key"] for r in xref if r["source"] == "legacy"}
    assert mastered == {"L1", "L2", "L3", "L4"}  # matched and mastered end to end


def test_a_template_column_missing_from_a_file_names_the_file(lake: Lake, tmp_path: Path) -> None:
    source = SourceConfig.model_validate({**LEGACY, "csv": {"delimiter": ";"}})
    landing = tmp_path / "landing"
    (landing / "legacy").mkdir(parents=True)
    (landing / "legacy" / "day1.csv").write_text(
        "ref;prénom;nom;rue;ville;cp;email\nL1;A;B;C;D;E;F\n"
    )
    with pytest.raises(IngestError) as info:
        ingest_source(lake, "legacy", source, landing, "batch-1")
    message = str(info.value)
    assert "source 'legacy': mapping.address_line1 names column 'numéro'" in message
    assert "legacy/day1.csv does not have" in message
