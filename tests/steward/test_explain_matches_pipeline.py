"""The steward's waterfall ends on the probability the pipeline stored: same model version,
same frozen term frequencies, through runs with changed data and a newer, unused model."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pyarrow as pa
import pytest

from demo import generate_demo_data
from e360.config import E360Config, load_config
from e360.lake import Lake
from e360.zones import master_table_name
from ingestion.batch import ingest_source
from matching.mastering.zone import MatchSummary, match_entity
from matching.resolution.training import train_entity
from matching.resolution.versions import list_models
from matching.standardize.zone import build_standardized
from stewardship.explain import Explainer
from stewardship.store import DecisionStore

ENTITY = "customer"


def _config(root: Path, demo_config_path: Path, **overrides: object) -> E360Config:
    return load_config(
        demo_config_path, overrides={"project.root": str(root), **overrides}, environ={}
    )


def _assert_waterfalls_equal_stored(config: E360Config, model_label: str) -> None:
    lake = Lake.from_config(config)
    pairs = lake.read("master", master_table_name(ENTITY, "pairs")).to_pylist()
    assert len(pairs) >= 10
    explainer = Explainer(config, lake)
    try:
        for pair in pairs[:: max(1, len(pairs) // 12)]:
            waterfall = explainer.waterfall(ENTITY, pair["record_id_l"], pair["record_id_r"])
            assert waterfall.model == model_label
            assert waterfall.match_probability == pytest.approx(pair["match_probability"], abs=1e-9)
            assert waterfall.match_weight == pytest.approx(pair["match_weight"], abs=1e-6)
    finally:
        explainer.close()


def _changed(records: pa.Table) -> pa.Table:
    """A second delivery: a tenth of the records gone, and many last names rewritten to one
    common value, which shifts today's term frequencies away from the frozen ones."""
    keep = records.slice(0, records.num_rows - records.num_rows // 10)
    names = keep.column("last_name").to_pylist()
    rewritten = ["smith" if i % 4 == 0 else n for i, n in enumerate(names)]
    index = keep.column_names.index("last_name")
    return keep.set_column(index, "last_name", pa.array(rewritten, keep.schema.field(index).type))


def _match(config: E360Config, lake: Lake, run_id: str, *, full: bool = False) -> MatchSummary:
    with closing(DecisionStore.from_config(config)) as decisions:
        return match_entity(config, lake, ENTITY, run_id, decisions=decisions, full=full)


def test_waterfall_probability_equals_the_stored_one(
    tmp_path: Path, demo_config_path: Path
) -> None:
    config = _config(tmp_path, demo_config_path)
    generate_demo_data(tmp_path, customers=150, seed=5)
    lake = Lake.from_config(config)
    for name, source in config.sources_of(ENTITY).items():
        ingest_source(lake, name, source, config.landing_dir, "b1")
    records = build_standardized(config, lake, ENTITY)
    first = _match(config, lake, "run-1")
    assert first.model_version == f"{ENTITY}/v0001"
    _assert_waterfalls_equal_stored(config, f"{ENTITY}/v0001")

    # Changed data, same model: an incremental run, and the frozen term frequencies.
    lake.replace("standardized", ENTITY, _changed(records))
    second = _match(config, lake, "run-2")
    assert second.mode == "incremental" and second.model_version == f"{ENTITY}/v0001"
    _assert_waterfalls_equal_stored(config, f"{ENTITY}/v0001")

    # A newer model the stored pairs were not scored with: the waterfall keeps to v0001.
    train_entity(config, lake, ENTITY)
    assert [m.version for m in list_models(config.models_dir, ENTITY)] == [1, 2]
    _assert_waterfalls_equal_stored(config, f"{ENTITY}/v0001")

    # Pinned to v0001 while v0002 is the newest: a full run scores with v0001, and so does
    # the waterfall.
    pinned = _config(tmp_path, demo_config_path, **{f"entities.{ENTITY}.model_version": 1})
    third = _match(pinned, Lake.from_config(pinned), "run-3", full=True)
    assert third.model_version == f"{ENTITY}/v0001"
    _assert_waterfalls_equal_stored(pinned, f"{ENTITY}/v0001")

    # Unpinned, the next run selects v0002; the waterfall follows the stored pairs to it.
    fourth = _match(config, lake, "run-4")
    assert fourth.model_version == f"{ENTITY}/v0002"
    _assert_waterfalls_equal_stored(config, f"{ENTITY}/v0002")
