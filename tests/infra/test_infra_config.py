"""Per-environment configuration: validated on load, mistakes name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from e360_infra.config import (
    ENVIRONMENTS_DIR,
    InfraConfigError,
    environment_names,
    load_environment,
)


def _variant(tmp_path: Path, changes: dict[str, object], base: str = "dev") -> Path:
    """A copy of an environment file with dotted keys changed (None deletes the key)."""
    raw = yaml.safe_load((ENVIRONMENTS_DIR / f"{base}.yaml").read_text())
    for dotted, value in changes.items():
        *parents, last = dotted.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(last, None)
        else:
            node[last] = value
    directory = tmp_path / "environments"
    directory.mkdir(exist_ok=True)
    (directory / "stage.yaml").write_text(yaml.safe_dump(raw))
    return directory


def test_shipped_environments_load() -> None:
    assert environment_names() == ["dev", "prod"]
    dev, prod = load_environment("dev"), load_environment("prod")
    assert (dev.name, prod.name) == ("dev", "prod")
    assert dev.account != prod.account  # separate accounts: the zone databases are account-wide
    assert prod.retain and not dev.retain
    assert prod.compute.database.multi_az and not dev.compute.database.multi_az
    assert prod.availability_zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]


def test_unknown_environment_names_the_file_and_the_known_ones() -> None:
    with pytest.raises(
        InfraConfigError,
        match=r"environments/stage\.yaml: no such environment file \(known: dev, prod\)",
    ):
        load_environment("stage")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"compute.steward.memory_mib": 4096},
            r"stage\.yaml: compute\.steward: .*memory_mib 4096 does not fit cpu 256",
        ),
        ({"compute.image_tag": "latest"}, r"stage\.yaml: compute\.image_tag: .*not 'latest'"),
        (
            {"access.allowed_cidrs": ["0.0.0.0/0"]},
            r"stage\.yaml: access\.allowed_cidrs: .*internet",
        ),
        ({"removal": "keep"}, r"stage\.yaml: removal: Input should be 'retain' or 'destroy'"),
        ({"account": "1234"}, r"stage\.yaml: account: String should match pattern"),
        (
            {"warehouse.base_capacity_rpu": 12},
            r"stage\.yaml: warehouse\.base_capacity_rpu: .*steps of 8",
        ),
        (
            {"network.flow_log_retention_days": 10},
            r"stage\.yaml: network\.flow_log_retention_days: ",
        ),
        (
            {"network.availability_zones": ["us-east-1a", "us-east-1b", "us-east-1c"]},
            r"'us-east-1a' is not in eu-west-1",
        ),
        ({"network.cidr": "10.0.0.0/18"}, r"stage\.yaml: network\.cidr: .*a /17 or larger"),
        ({"compute.steward.cpu": 300}, r"stage\.yaml: compute\.steward: .*cpu must be one of"),
        (
            {"streaming.topics": []},
            r"stage\.yaml: streaming\.topics: List should have at least 1 item",
        ),
        (
            {"governance.zone_domain": "finance"},
            r"stage\.yaml: governance: .*zone_domain 'finance'",
        ),
        ({"lake.colour": "blue"}, r"stage\.yaml: lake\.colour: Extra inputs are not permitted"),
        ({"access": None}, r"stage\.yaml: access: Field required"),
        ({"name": "prod"}, r"stage\.yaml: name: not allowed, the file name is the environment"),
    ],
)
def test_mistakes_name_file_key_and_reason(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    directory = _variant(tmp_path, changes)
    with pytest.raises(InfraConfigError, match=message):
        load_environment("stage", directory)


def test_duplicate_topics_are_refused(tmp_path: Path) -> None:
    topic = {"name": "e360.orders", "source": "web_orders"}
    directory = _variant(tmp_path, {"streaming.topics": [topic, topic]})
    with pytest.raises(
        InfraConfigError, match=r"streaming\.topics: .*duplicate topic names \['e360\.orders'\]"
    ):
        load_environment("stage", directory)


def test_names_are_predictable(tmp_path: Path) -> None:
    env = load_environment("stage", _variant(tmp_path, {}))
    assert env.prefix == "e360-stage"
    assert env.bucket_name("raw") == "e360-stage-raw-111111111111-eu-west-1"
    assert len(env.bucket_name("artefacts")) <= 63
