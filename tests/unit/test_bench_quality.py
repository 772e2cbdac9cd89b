"""The quality benchmark's own logic on tiny generated data: labelled-pairs scoring, the FEBRL
writer, how a mapping's columns reach plain Splink, and the effective mapping e360 runs."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pandas as pd
import pytest
import yaml

from bench.quality import _error_line, effective_mapping, plain_splink, render, targets
from bench.quality.datasets import (
    Prepared,
    components,
    labelled_pairs_scores,
    read_labelled_pairs,
    write_febrl,
)
from bench.quality.plain_splink import (
    compared_columns,
    frames_for,
    link_type,
    read_spec,
    rules,
    source_frame,
)


def test_components_join_chains_and_keep_singletons() -> None:
    truth = components(["a", "b", "c", "d", "e"], [("a", "b"), ("c", "b"), ("d", "x")])
    assert truth["a"] == truth["b"] == truth["c"]
    assert truth["d"] == truth["x"] != truth["a"]
    assert len({truth["e"], truth["a"], truth["d"]}) == 3


def test_labelled_pairs_scores_count_only_labelled_pairs() -> None:
    predicted = {"o:1": "A", "c:1": "A", "o:2": "A", "o:3": "B", "c:2": "C", "o:9": "Z"}
    labelled = [
        ("o:1", "c:1", True),  # together, true: tp
        ("o:2", "c:1", False),  # together, false: fp
        ("o:3", "c:2", True),  # apart, true: fn
        ("o:3", "c:1", False),  # apart, false: nothing
        ("o:8", "c:2", True),  # o:8 quarantined: not scored
    ]
    scores = labelled_pairs_scores(predicted, labelled)
    pairwise = scores["pairwise"]
    assert (pairwise["tp"], pairwise["fp"], pairwise["fn"]) == (1, 1, 1)
    assert pairwise["precision"] == pytest.approx(0.5)
    assert pairwise["recall"] == pytest.approx(0.5)
    # B-cubed over the five records of scored pairs only (o:9 appears in no labelled pair):
    # truth {o:1, c:1}, {o:3, c:2}, {o:2}; predicted A = {o:1, c:1, o:2}, B = {o:3}, C = {c:2}.
    bcubed = scores["bcubed"]
    assert bcubed["records"] == 5
    assert bcubed["precision"] == pytest.approx((2 / 3 + 2 / 3 + 1 / 3 + 1 + 1) / 5)
    assert bcubed["recall"] == pytest.approx((1 + 1 + 1 + 1 / 2 + 1 / 2) / 5)


def test_labelled_pairs_scores_perfect_and_empty() -> None:
    predicted = {"o:1": "A", "c:1": "A", "o:2": "B"}
    perfect = labelled_pairs_scores(predicted, [("o:1", "c:1", True), ("o:2", "c:1", False)])
    assert perfect["pairwise"]["f1"] == pytest.approx(1.0)
    assert perfect["bcubed"]["f1"] == pytest.approx(1.0)
    missed = labelled_pairs_scores({"o:1": "A", "c:1": "B"}, [("o:1", "c:1", True)])
    assert missed["pairwise"]["f1"] == 0.0


def test_read_labelled_pairs_prefixes_source_names(tmp_path: Path) -> None:
    path = tmp_path / "labelled_pairs.csv"
    path.write_text("offer_id,catalog_id,is_match\nhttp://x/n1,http://y/c1,true\nn2,c1,false\n")
    assert read_labelled_pairs(path) == [
        ("offers:http://x/n1", "catalog:http://y/c1", True),
        ("offers:n2", "catalog:c1", False),
    ]


def test_write_febrl_strips_values_and_builds_truth_from_links(tmp_path: Path) -> None:
    index = pd.Index(["rec-1-org", "rec-1-dup-0", "rec-2-org"], name="rec_id")
    frame = pd.DataFrame({"given_name": [" ann", "anne ", "bob"]}, index=index)
    links = pd.MultiIndex.from_tuples([("rec-1-org", "rec-1-dup-0")])
    truth = write_febrl({"febrl1": frame}, links, tmp_path)
    with (tmp_path / "febrl1.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert rows == [
        {"rec_id": "rec-1-org", "given_name": "ann"},
        {"rec_id": "rec-1-dup-0", "given_name": "anne"},
        {"rec_id": "rec-2-org", "given_name": "bob"},
    ]
    assert truth["febrl1:rec-1-org"] == truth["febrl1:rec-1-dup-0"]
    assert truth["febrl1:rec-2-org"] != truth["febrl1:rec-1-org"]


def test_write_febrl_links_the_first_file_to_the_last(tmp_path: Path) -> None:
    a = pd.DataFrame({"surname": ["lee"]}, index=pd.Index(["rec-0-org"], name="rec_id"))
    b = pd.DataFrame({"surname": ["leigh"]}, index=pd.Index(["rec-0-dup-0"], name="rec_id"))
    links = pd.MultiIndex.from_tuples([("rec-0-org", "rec-0-dup-0")])
    truth = write_febrl({"febrl4a": a, "febrl4b": b}, links, tmp_path)
    assert set(truth) == {"febrl4a:rec-0-org", "febrl4b:rec-0-dup-0"}
    assert truth["febrl4a:rec-0-org"] == truth["febrl4b:rec-0-dup-0"]
    assert (tmp_path / "febrl4b.csv").read_text().splitlines() == [
        "rec_id,surname",
        "rec-0-dup-0,leigh",
    ]


def _mapping(folder: Path, data: dict) -> Path:
    path = folder / "m.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_source_frame_maps_columns_to_canonical_names(tmp_path: Path) -> None:
    (tmp_path / "crm.csv").write_text(
        "id,name,born,tel,Shade\n"
        "k1, Ann  Lee ,03/04/1980,+44 7700 900123, Navy\n"
        "k2,Bob Ray,19791231,07700 900456,red\n"
        ",no key,01/01/1990,,\n"
        "k1,again,01/01/1990,,\n"
        "k3,broken,line,with,too,many\n"
    )
    data = {
        "entity": "customer",
        "sources": [
            {
                "name": "crm",
                "path": "crm.csv",
                "key": "id",
                "attributes": {"full_name": "name", "date_of_birth": "born", "phone": "tel"},
                "extra": {"Shade": "text"},
            }
        ],
    }
    spec = read_spec(_mapping(tmp_path, data), tmp_path)
    frame = source_frame(spec.sources[0])
    assert set(frame.columns) == {
        "unique_id",
        "source_dataset",
        "date_of_birth",
        "phone",
        "x_shade",
        "first_name",
        "last_name",
    }  # a full name and no first or last name: split in two
    rows = frame.set_index("unique_id").to_dict("index")
    assert list(rows) == ["k1", "k2"]  # blank key, repeated key and malformed line dropped
    assert rows["k1"]["first_name"] == "ann" and rows["k1"]["last_name"] == "lee"
    assert rows["k1"]["date_of_birth"] == "1980-04-03"  # day first by default
    assert rows["k2"]["date_of_birth"] == "1979-12-31"  # compact yyyymmdd
    assert rows["k1"]["phone"] == "7700900123" and rows["k2"]["phone"] == "7700900456"
    assert rows["k1"]["x_shade"] == "navy"
    assert rows["k1"]["source_dataset"] == "crm"


def test_read_spec_link_type_and_family(tmp_path: Path) -> None:
    for name in ("shop", "catalog"):
        (tmp_path / f"{name}.csv").write_text("id,title,ean,colour\n1,a phone,0123,\n")
    sources = [
        {"name": "shop", "path": "shop.csv", "key": "id", "attributes": {"title": "title"}},
        {
            "name": "catalog",
            "path": "catalog.csv",
            "key": "id",
            "one_per_master": True,
            "attributes": {"title": "title", "gtin": "ean"},
            "extra": {"colour": "exact"},
        },
    ]
    data = {"entity": "product", "sources": sources}
    spec = read_spec(_mapping(tmp_path, data), tmp_path)
    assert spec.family == "product" and link_type(spec) == "link_and_dedupe"
    assert spec.extra_kinds == {"x_colour": "exact"}
    frames = frames_for(spec)
    assert list(frames[0].columns) == list(frames[1].columns)
    assert frames[0]["gtin"].isna().all() and frames[1]["gtin"].tolist() == ["123"]
    # gtin is filled in one file only, x_colour in none: neither is compared.
    assert compared_columns(frames) == ["title"]
    both = read_spec(_mapping(tmp_path, {**data, "one_per_source": True}), tmp_path)
    assert link_type(both) == "link_only"
    customer = {
        "entity": "customer",
        "sources": [{**sources[0], "attributes": {"company_name": "title"}}],
    }
    organisation = read_spec(_mapping(tmp_path, customer), tmp_path)
    assert organisation.family == "organisation" and link_type(organisation) == "dedupe_only"


def test_rules_keep_only_those_on_compared_columns() -> None:
    names = [
        r.get_blocking_rule("duckdb").blocking_rule_sql
        for r in rules("organisation", "predict", ["company_name", "city"])
    ]
    assert len(names) == 2
    assert any("substr" in n.lower() for n in names)
    assert rules("product", "em", ["title"])[0].get_blocking_rule("duckdb").blocking_rule_sql
    assert rules("person", "deterministic", ["phone"]) == []


def test_effective_mapping_makes_paths_absolute(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    mapping = _mapping(
        tmp_path, {"entity": "product", "sources": [{"name": "a", "path": "a.csv", "key": "id"}]}
    )
    run = tmp_path / "run"
    run.mkdir()
    written = yaml.safe_load(effective_mapping(Prepared(mapping, data_dir, dict), run).read_text())
    assert written["sources"][0]["path"] == str((data_dir / "a.csv").resolve())
    assert written["entity"] == "product"


def test_error_line_keeps_every_validation_line_without_the_path() -> None:
    mapping = Path("/tmp/run/mapping.yaml")
    stderr = f"error: {mapping}: sources.0.x: bad\n{mapping}: sources.1.x: bad too\n"
    assert _error_line(stderr, "", mapping) == "sources.0.x: bad / sources.1.x: bad too"
    traceback = "Traceback (most recent call last):\n  File x\nValueError: math domain error\n"
    assert _error_line(traceback, "", mapping) == "ValueError: math domain error"


def _row(name: str, ours: float | None, theirs: float | None) -> dict:
    def side(value: float | None) -> dict:
        if value is None:
            return {"ok": False, "error": "boom"}
        return {"ok": True, "pairwise": {"f1": value}}

    return {"dataset": name, "e360": side(ours), "splink": side(theirs)}


def test_targets_mark_met_and_not_met() -> None:
    checked = {
        label: met
        for label, met, _ in targets([_row("FEBRL 1", 0.99, 0.97), _row("wdc_phones", None, 0.5)])
    }
    assert checked["FEBRL 1-4 ≥ 0.98"] is True
    assert checked["each WDC set ≥ 0.80"] is False
    assert checked["e360 ≥ plain Splink on every dataset"] is False
    assert "restaurants ≥ 0.95" not in checked


def test_render_keeps_a_failed_side_in_its_columns() -> None:
    ok = {
        "ok": True,
        "seconds": 1.5,
        "pairwise": {"precision": 1.0, "recall": 0.5, "f1": 2 / 3},
        "bcubed": {"f1": 0.9},
    }
    failed = {"ok": False, "error": "a | b " + "x" * 300}
    rows = [{"dataset": "wdc_phones", "records": 497, "e360": failed, "splink": ok}]
    env = {
        "date": "today",
        "machine": "m",
        "commit": "c",
        "versions": {"splink": "5"},
        "demo_customers": 2000,
    }
    text = render(rows, env)
    line = next(line for line in text.splitlines() if line.startswith("| wdc_phones"))
    cells = [c.strip() for c in line.strip("|").split(" | ")]
    assert len(cells) == 8
    assert cells[1] == "497" and cells[2].startswith("failed: a \\| b") and len(cells[2]) < 200
    assert cells[5:] == ["1.000 / 0.500 / 0.667", "0.900", "1.5"]
    assert "each WDC set ≥ 0.80: **not met** (wdc_phones failed)" in text


def test_plain_splink_links_identical_people_across_two_files(tmp_path: Path) -> None:
    rng = random.Random(7)
    firsts = "ann bob cara dev eli fay gus hal ivy jon kim lou max ned oli pam quin rae sam tia"
    lasts = "lee ray moss hart cole dunn ford gale hale irwin judd kerr lamb marsh nash orr pike"
    people = [
        (first, last, f"19{rng.randint(40, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
        for first, last in zip(firsts.split(), rng.sample(lasts.split() * 2, 20), strict=True)
    ]
    for source in ("a", "b"):
        rows = [f"{source}{i},{f},{s},{d}" for i, (f, s, d) in enumerate(people)]
        (tmp_path / f"{source}.csv").write_text("id,fn,sn,dob\n" + "\n".join(rows) + "\n")
    attributes = {"first_name": "fn", "last_name": "sn", "date_of_birth": "dob"}
    sources = [{"name": s, "path": f"{s}.csv", "key": "id", "attributes": attributes} for s in "ab"]
    spec = read_spec(
        _mapping(tmp_path, {"entity": "customer", "one_per_source": True, "sources": sources}),
        tmp_path,
    )
    assigned, records = plain_splink.resolve(spec)
    assert records == 40
    assert sorted(assigned) == sorted(f"{s}:{s}{i}" for s in "ab" for i in range(20))
    assert all(assigned[f"a:a{i}"] == assigned[f"b:b{i}"] for i in range(20))
    assert len(set(assigned.values())) == 20
