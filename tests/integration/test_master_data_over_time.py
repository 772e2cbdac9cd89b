"""Masters over consecutive runs, through the real parts: Iceberg lake, Splink on DuckDB,
the SQLite steward store. Incremental runs equal full ones; master ids follow the design's
rules; steward decisions survive reruns and retraining; models are pinned and explicit."""

from __future__ import annotations

import shutil
from collections import defaultdict
from contextlib import closing
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from demo import generate_demo_data
from e360.config import E360Config, load_config
from e360.errors import MatchError
from e360.lake import Lake
from e360.zones import master_table_name
from ingestion.batch import ingest_source
from matching.mastering.zone import MatchSummary, masters_by_record, match_entity
from matching.resolution.settings import matching_fingerprint
from matching.resolution.training import train_entity
from matching.resolution.versions import list_models
from matching.standardize.zone import build_standardized
from stewardship.store import DecisionStore

ENTITY = "customer"


@pytest.fixture(scope="module")
def customers(tmp_path_factory: pytest.TempPathFactory, demo_config_path: Path) -> pa.Table:
    """Standardized customer records of a small generated demo, ingested for real."""
    root = tmp_path_factory.mktemp("standardized")
    config = load_config(demo_config_path, overrides={"project.root": str(root)}, environ={})
    generate_demo_data(root, customers=300, seed=11)
    lake = Lake.from_config(config)
    for name, source in config.sources_of(ENTITY).items():
        ingest_source(lake, name, source, config.landing_dir, "b1")
    records = build_standardized(config, lake, ENTITY)
    assert records.num_rows > 300
    return records


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One trained model shared by the tests, so full and incremental runs compare like
    with like (a model is a pure function of its version)."""
    return tmp_path_factory.mktemp("models")


def _project(root: Path, demo_config_path: Path, models: Path, **overrides: object) -> E360Config:
    shutil.rmtree(root, ignore_errors=True)
    return load_config(
        demo_config_path,
        overrides={"project.root": str(root), "paths.models": str(models), **overrides},
        environ={},
    )


def _run(config: E360Config, records: pa.Table, run_id: str, **options: bool) -> MatchSummary:
    lake = Lake.from_config(config)
    lake.replace("standardized", ENTITY, records)
    with closing(DecisionStore.from_config(config)) as decisions:
        return match_entity(config, lake, ENTITY, run_id, decisions=decisions, **options)


def _masters(summary: MatchSummary) -> dict[str, str]:
    return masters_by_record(summary.record_masters)


def _partition(record_masters: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = defaultdict(set)
    for record, master in record_masters.items():
        groups[master].add(record)
    return {frozenset(g) for g in groups.values()}


def _members(summary: MatchSummary) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for record, master in sorted(_masters(summary).items()):
        groups[master].append(record)
    return groups


def _history(config: E360Config) -> list[dict]:
    return (
        Lake.from_config(config).read("master", master_table_name(ENTITY, "id_history")).to_pylist()
    )


def _with_email(records: pa.Table, changed: dict[str, str]) -> pa.Table:
    emails = [
        changed.get(r, e)
        for r, e in zip(records["record_id"].to_pylist(), records["email"].to_pylist(), strict=True)
    ]
    index = records.schema.get_field_index("email")
    return records.set_column(index, "email", pa.array(emails, records.schema.field("email").type))


def test_an_incremental_run_equals_a_full_run_up_to_id_assignment(
    customers: pa.Table, tmp_path: Path, demo_config_path: Path, models_dir: Path
) -> None:
    ids = customers["record_id"].to_pylist()
    first = customers.filter(pc.is_in(customers["record_id"], pa.array(ids[: int(len(ids) * 0.9)])))
    # The second delivery: 10% new records, three changed and three deleted.
    changed = {ids[0]: "someone.else@example.org", ids[5]: None, ids[9]: "x@example.org"}
    deleted = ids[20:23]
    final = _with_email(customers, changed).filter(
        pc.invert(pc.is_in(customers["record_id"], pa.array(deleted)))
    )

    incremental = _project(tmp_path / "inc", demo_config_path, models_dir)
    one = _run(incremental, first, "r1")
    two = _run(incremental, final, "r2")
    full = _project(tmp_path / "full", demo_config_path, models_dir)
    rebuilt = _run(full, final, "f1")

    assert one.mode == "full" and two.mode == "incremental" and rebuilt.mode == "full"
    assert two.model_version == rebuilt.model_version
    new_records = (
        len(ids)
        - first.num_rows
        - len([d for d in deleted if d not in set(first["record_id"].to_pylist())])
    )
    assert two.rescored_records == new_records + len(changed)
    assert two.reclustered_records < final.num_rows  # only the touched components
    assert _partition(_masters(two)) == _partition(_masters(rebuilt))
    lake_inc, lake_full = Lake.from_config(incremental), Lake.from_config(full)
    pairs = [
        sorted(
            lake.read(
                "master",
                master_table_name(ENTITY, "pairs"),
                columns=("record_id_l", "record_id_r", "match_probability"),
            ).to_pylist(),
            key=lambda p: (p["record_id_l"], p["record_id_r"]),
        )
        for lake in (lake_inc, lake_full)
    ]
    assert len(pairs[0]) == len(pairs[1])
    for mine, theirs in zip(*pairs, strict=True):
        assert (mine["record_id_l"], mine["record_id_r"]) == (
            theirs["record_id_l"],
            theirs["record_id_r"],
        )
        assert mine["match_probability"] == pytest.approx(theirs["match_probability"], abs=1e-9)


def test_five_percent_new_records_change_the_master_of_under_one_percent(
    customers: pa.Table, tmp_path: Path, demo_config_path: Path, models_dir: Path
) -> None:
    ids = customers["record_id"].to_pylist()
    config = _project(tmp_path / "p", demo_config_path, models_dir)
    first = customers.filter(
        pc.is_in(customers["record_id"], pa.array(ids[: int(len(ids) * 0.95)]))
    )
    one = _run(config, first, "r1")
    two = _run(config, customers, "r2")
    assert two.mode == "incremental"
    assert two.id_churn < 0.01
    before, after = _masters(one), _masters(two)
    kept = sum(1 for r, m in before.items() if after[r] == m)
    assert kept / len(before) > 0.99
    # Unchanged data: nothing rescored, nothing re-clustered, no id event.
    three = _run(config, customers, "r3")
    assert (three.rescored_records, three.reclustered_records, three.id_events) == (0, 0, {})
    assert _masters(three) == _masters(two)


def test_ids_merge_split_and_retire_across_runs_and_decisions_survive_a_retrain(
    customers: pa.Table, tmp_path: Path, demo_config_path: Path, models_dir: Path
) -> None:
    config = _project(tmp_path / "p", demo_config_path, models_dir)
    store = DecisionStore.from_config(config)
    one = _run(config, customers, "r1")
    masters = _members(one)
    singles = sorted(m for m, members in masters.items() if len(members) == 1)
    pairs = sorted(m for m, members in masters.items() if len(members) == 2)
    triples = sorted(m for m, members in masters.items() if len(members) == 3)
    a, b = singles[0], singles[1]
    older, newer = sorted((a, b))  # ULIDs sort by creation time

    # Run 2: a steward merges two masters; the oldest id survives, the other is retired into it.
    store.merge_masters(ENTITY, {a: masters[a], b: masters[b]}, "ann", "same person, moved")
    two = _run(config, customers, "r2")
    assert _masters(two)[masters[a][0]] == _masters(two)[masters[b][0]] == older
    assert {"master_id": newer, "event": "merged_into", "related_master_id": older} in [
        {k: e[k] for k in ("master_id", "event", "related_master_id")} for e in _history(config)
    ]
    assert two.steward_constraints["must_links"] == 1

    # Run 3: a split gives the records split out a new id, the larger rest keeps its id; a
    # master whose every record is gone is retired.
    split_master = triples[0]
    out, *rest = masters[split_master]
    stay = rest[0]
    store.split_master(ENTITY, split_master, [out], rest, "bob", "different people")
    gone = pairs[1]
    remaining = customers.filter(
        pc.invert(pc.is_in(customers["record_id"], pa.array(masters[gone])))
    )
    three = _run(config, remaining, "r3")
    assert _masters(three)[stay] == split_master
    assert _masters(three)[out] != split_master
    events = {(e["master_id"], e["event"], e["related_master_id"]) for e in _history(config)}
    assert (_masters(three)[out], "split_from", split_master) in events
    assert (_masters(three)[out], "created", None) in events
    assert (gone, "retired", None) in events
    assert all(e["run_id"] for e in _history(config))

    # A pair decision beats the model; all decisions hold through a rerun and a retrain.
    linked = [
        m
        for m, members in _members(three).items()
        # not the masters the steward merged or split: this decision is about another pair
        if len(members) == 2 and m not in (split_master, older)
    ]
    left, right = _members(three)[linked[0]]
    store.decide_pair(ENTITY, left, right, "no_match", "ann", expected_version=0)
    for run_id, retrain in (("r4", False), ("r5", True)):
        later = _run(config, remaining, run_id, retrain=retrain)
        assert _masters(later)[left] != _masters(later)[right]
        assert _masters(later)[masters[a][0]] == _masters(later)[masters[b][0]]
        assert _masters(later)[out] != _masters(later)[stay]
    assert later.model_trained and later.mode == "full"
    assert all(d.applied_run_id == "r4" for d in store.pair_decisions(ENTITY))
    assert [c.applied_run_id for c in store.master_changes(ENTITY)] == ["r2", "r3"]
    store.close()


def test_models_are_pinned_trained_explicitly_and_charted(
    customers: pa.Table, tmp_path: Path, demo_config_path: Path
) -> None:
    models = tmp_path / "models"
    config = _project(tmp_path / "p", demo_config_path, models)
    one = _run(config, customers, "r1")
    assert one.model_version == "customer/v0001" and one.model_trained

    store = DecisionStore.from_config(config)
    members = [m for m in _members(one).values() if len(m) == 2][:5]
    for left, right in members:
        store.decide_pair(ENTITY, left, right, "match", "ann")
    trained = train_entity(config, Lake.from_config(config), ENTITY, decisions=store)
    store.close()
    assert trained.model.label == "customer/v0002" and trained.labels == len(members)
    for chart in trained.charts:
        text = chart.read_text()
        assert "vega" in text.lower() and len(text) > 10_000, chart  # libraries inlined
    assert {p.name for p in (models / ENTITY / "v0002.tf").iterdir()} >= {"first_name.parquet"}

    # Unpinned, a run takes the newest version; pinned, the pinned one.
    assert _run(config, customers, "r2").model_version == "customer/v0002"
    pinned = load_config(
        demo_config_path,
        overrides={
            "project.root": str(config.root),
            "paths.models": str(models),
            "entities.customer.model_version": 1,
        },
        environ={},
    )
    three = _run(pinned, customers, "r3")
    assert three.model_version == "customer/v0001" and not three.model_trained
    assert three.mode == "full"  # another model: every score is made again
    assert [v.version for v in list_models(models, ENTITY)] == [1, 2]

    missing = load_config(
        demo_config_path,
        overrides={
            "project.root": str(config.root),
            "paths.models": str(models),
            "entities.customer.model_version": 9,
        },
        environ={},
    )
    with pytest.raises(
        MatchError, match=r"entities\.customer\.model_version: customer model v0009 not found"
    ):
        _run(missing, customers, "r4")


def test_one_per_master_sources_and_an_auto_threshold(
    customers: pa.Table, tmp_path: Path, demo_config_path: Path
) -> None:
    """`one_per_master` on a source: two of its records never share a master, pairs within
    it are never scored, the model is trained for that blocking. `threshold: auto`: chosen
    from the scores, reported with its expected precision and recall, and the review band
    kept below it."""
    config = _project(
        tmp_path / "p",
        demo_config_path,
        tmp_path / "models",
        **{
            "sources.crm.one_per_master": True,
            f"entities.{ENTITY}.matching.threshold": "auto",
        },
    )
    summary = _run(config, customers, "r1")
    threshold = summary.threshold
    assert threshold is not None and threshold["chosen"] == "auto"
    assert 0.5 <= threshold["value"] < 1
    assert 0.5 < threshold["expected_precision"] <= 1 and 0 < threshold["expected_recall"] <= 1
    assert summary.prior is not None and 0 < summary.prior["value"] < 1
    assert summary.prior["source"] in ("deterministic", "one_per_master", "em", "default")
    members = defaultdict(int)
    for record, master in _masters(summary).items():
        if record.startswith("crm:"):
            members[master] += 1
    assert members and max(members.values()) == 1
    lake = Lake.from_config(config)
    pairs = lake.read("master", master_table_name(ENTITY, "pairs")).to_pylist()
    assert pairs and not any(p["source_l"] == p["source_r"] == "crm" for p in pairs)
    queue = lake.read("master", master_table_name(ENTITY, "review_queue")).to_pylist()
    assert all(q["match_probability"] <= threshold["value"] for q in queue)
    (model,) = list_models(config.models_dir, ENTITY)
    plain = _project(tmp_path / "q", demo_config_path, tmp_path / "models")
    assert model.fingerprint != matching_fingerprint(plain.entities[ENTITY].matching)
