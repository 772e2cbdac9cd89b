"""`e360 resolve` on thin and odd mappings: it writes clusters or says in one line what to
map; never a traceback, never a crash in training. And one_per_master per source."""

from __future__ import annotations

import csv
import json
import random
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from e360.cli import main

FIELDS = ["id", "fname", "sname", "mail", "born", "zip"]


def _people(rows: int, seed: int = 1) -> list[dict[str, str]]:
    """`rows` records of about rows/2 people: each person once or twice, with a typo."""
    rng = random.Random(seed)
    firsts = ["anna", "ben", "carla", "dev", "emil", "fay", "gus", "hana", "ivo", "jan"]
    lasts = ["smith", "jones", "novak", "berg", "okafor", "li", "rossi", "kim", "dubois"]
    out: list[dict[str, str]] = []
    person = 0
    while len(out) < rows:
        first, last = rng.choice(firsts), rng.choice(lasts) + str(person)
        born = f"19{rng.randint(50, 99)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        mail = f"{first}.{last}@example.com"
        for copy in range(rng.choice([1, 2])):
            out.append(
                {
                    "id": str(len(out) + 1),
                    "fname": first if copy == 0 else first[:-1] + "x",
                    "sname": last,
                    "mail": mail,
                    "born": born,
                    "zip": f"AB{person % 7} {person % 3}CD",
                }
            )
        person += 1
    return out[:rows]


def _write(folder: Path, name: str, rows: list[dict[str, str]]) -> Path:
    path = folder / f"{name}.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _mapping(folder: Path, sources: dict[str, dict[str, str]], **top: object) -> Path:
    mapping = {
        "entity": "customer",
        **top,
        "sources": [
            {"name": name, "path": f"{name}.csv", "key": "id", "attributes": attributes}
            for name, attributes in sources.items()
        ],
    }
    path = folder / "mapping.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    return path


NAMES = {"first_name": "fname", "last_name": "sname", "date_of_birth": "born"}


def _resolve(mapping: Path, out: Path) -> int:
    return main(["resolve", "-m", str(mapping), "-o", str(out)])


def _clusters(out: Path, rows: int) -> dict:
    clusters = pq.read_table(out / "clusters.parquet")
    assert clusters.num_rows == rows
    report = json.loads((out / "report.json").read_text())
    assert report["threshold"]["chosen"] == "auto"
    assert 0 < report["training"]["prior"]["value"] < 1
    return report


def test_one_comparable_column_says_what_to_map(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, "crm", _people(20))
    code = _resolve(_mapping(tmp_path, {"crm": {"email": "mail"}}), tmp_path / "out")
    assert code != 0
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1
    assert "map more attributes" in err
    assert not (tmp_path / "out" / "clusters.parquet").exists()


def test_an_all_null_column(tmp_path: Path) -> None:
    rows = [{**r, "mail": ""} for r in _people(60)]
    _write(tmp_path, "crm", rows)
    mapping = _mapping(tmp_path, {"crm": {**NAMES, "email": "mail"}})
    assert _resolve(mapping, tmp_path / "out") == 0
    report = _clusters(tmp_path / "out", 60)
    assert report["filled"]["email"] == 0
    assert report["masters_with_several_records"] > 0


def test_all_rows_identical(tmp_path: Path) -> None:
    row = _people(1)[0]
    _write(tmp_path, "crm", [{**row, "id": str(i)} for i in range(12)])
    assert _resolve(_mapping(tmp_path, {"crm": NAMES}), tmp_path / "out") == 0
    report = _clusters(tmp_path / "out", 12)
    # Every random pair agrees on everything, so agreement tells nothing apart: said so,
    # and nothing is joined on no evidence.
    assert report["training"]["prior"]["source"] != "deterministic"
    assert any("carries no evidence" in w for w in report["training"]["warnings"])
    assert report["masters"] == 12


def test_two_records_only(tmp_path: Path) -> None:
    _write(tmp_path, "crm", _people(2))
    assert _resolve(_mapping(tmp_path, {"crm": NAMES}), tmp_path / "out") == 0
    _clusters(tmp_path / "out", 2)


def test_two_records_in_two_one_per_master_sources(tmp_path: Path) -> None:
    person = _people(1)[0]
    _write(tmp_path, "a", [person])
    _write(tmp_path, "b", [person])
    mapping = _mapping(tmp_path, {"a": NAMES, "b": NAMES}, one_per_source=True)
    assert _resolve(mapping, tmp_path / "out") == 0
    report = _clusters(tmp_path / "out", 2)
    assert report["training"]["prior"]["candidates"]["one_per_master"] == 1.0


def test_one_per_master_on_one_source_only(tmp_path: Path) -> None:
    """A clean register (one record per person) beside a feed with duplicates: the
    register's records never share a master and are never compared with each other; the
    feed's duplicates still join."""
    people = _people(80, seed=4)
    register = list({r["mail"]: r for r in people}.values())
    _write(tmp_path, "register", register)
    _write(tmp_path, "feed", people)
    mapping = yaml.safe_load(
        _mapping(tmp_path, {"register": {**NAMES, "email": "mail"}, "feed": {**NAMES}}).read_text()
    )
    mapping["sources"][0]["one_per_master"] = True
    path = tmp_path / "mixed.yaml"
    path.write_text(yaml.safe_dump(mapping))
    out = tmp_path / "out"
    assert _resolve(path, out) == 0
    report = _clusters(out, len(register) + len(people))
    assert report["one_per_master"] == ["register"]
    clusters = pq.read_table(out / "clusters.parquet").to_pylist()
    per_master = Counter((c["master_id"], c["source"]) for c in clusters)
    assert max(n for (_, source), n in per_master.items() if source == "register") == 1
    assert max(n for (_, source), n in per_master.items() if source == "feed") >= 2
    for pair in pq.read_table(out / "pairs.parquet").to_pylist():
        assert not (pair["source_l"] == pair["source_r"] == "register")


def test_a_blocking_rule_over_the_comparison_budget_is_left_out_and_named(
    tmp_path: Path,
) -> None:
    people = _people(60)
    _write(tmp_path, "crm", people)
    _write(tmp_path, "shop", people)
    sources = {name: {**NAMES, "email": "mail"} for name in ("crm", "shop")}

    assert _resolve(_mapping(tmp_path, sources), tmp_path / "all") == 0
    counted = _clusters(tmp_path / "all", 120)["blocking"]
    assert counted["comparisons"] >= 60 and not counted["is_estimate"]
    assert not any(rule["left_out"] for rule in counted["rules"])

    # A budget below what the costliest later rule adds: it goes, the first always stays.
    budget = max(rule["pairs"] for rule in counted["rules"][1:]) - 1
    assert budget > 0
    assert _resolve(_mapping(tmp_path, sources, max_comparisons=budget), tmp_path / "cut") == 0
    cut = _clusters(tmp_path / "cut", 120)["blocking"]
    left_out = [rule["rule"] for rule in cut["rules"] if rule["left_out"]]
    assert left_out == [r["rule"] for r in cut["rules"][1:] if r["pairs"] > budget]
    assert left_out and cut["comparisons"] < counted["comparisons"]


def test_namesakes_beyond_the_block_cap_meet_only_on_what_else_they_share(
    tmp_path: Path,
) -> None:
    # 80 people called Anna Smith, born in one year, each with her own e-mail and postcode,
    # two of them one person (the same e-mail and date of birth)
    people = _people(40)
    for i in range(80):
        people.append(
            {
                "id": str(1000 + i),
                "fname": "anna",
                "sname": "smith",
                "mail": f"anna.smith{i}@example.org",
                "born": f"1970-{i % 12 + 1:02d}-{i % 28 + 1:02d}",
                "zip": f"ZZ{i} 9XY",
            }
        )
    people[-1] = {**people[-2], "id": "2000"}
    _write(tmp_path, "crm", people)
    assert (
        _resolve(
            _mapping(tmp_path, {"crm": {**NAMES, "email": "mail", "postcode": "zip"}}),
            tmp_path / "out",
        )
        == 0
    )
    report = _clusters(tmp_path / "out", len(people))
    pairs = {r["rule"]: r["pairs"] for r in report["blocking"]["rules"]}
    # the blocks of 80 on the name, and on the name and birth year, are over the cap of 50:
    # of their 3,160 pairs none is generated; the 40 others still pair on them
    for columns in (["first_name_phonetic", "last_name_phonetic"], ["name_sort", "dob_year"]):
        assert pairs[" and ".join(f'l."{c}" = r."{c}"' for c in columns)] < 40
    masters = {
        r["source_key"]: r["master_id"]
        for r in pq.read_table(tmp_path / "out" / "clusters.parquet").to_pylist()
    }
    assert masters["2000"] == masters[people[-2]["id"]]  # still one person, met by e-mail
    annas = [masters[str(1000 + i)] for i in range(79)]
    assert len(set(annas)) == 79  # and no two namesakes merged
