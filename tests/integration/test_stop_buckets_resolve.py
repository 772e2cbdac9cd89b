"""`e360 resolve` on a catalogue where most listings share a generic title: the title rule's
pairs stay within the stop-bucket bound, and the listings that do say what they are still meet
(Splink on DuckDB, the resolver's own path)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from splink import DuckDBAPI, Linker

from matching.mapped.mapping import load_mapping
from matching.mapped.plan import plan_for
from matching.mapped.resolver import read_records, resolve_mapping
from matching.resolution.blocking import within_budget, without_stop_keys
from matching.resolution.settings import settings
from matching.standardize import lsh

GENERIC = 120  # one bucket of 120 listings: over the cap of 50
BRANDS = ["sony", "bose", "jbl", "anker", "logitech", "philips", "sennheiser", "belkin"]
KINDS = ["noise cancelling wireless headphones", "waterproof bluetooth party speaker",
         "ergonomic rechargeable gaming mouse", "slim power bank 20000mah",
         "mechanical keyboard brown switches", "aluminium usb c hub hdmi",
         "autofocus webcam 1080p stereo microphone", "dimmable smart bulb e27"]  # fmt: skip


def _catalogue(folder: Path) -> tuple[Path, list[tuple[str, str]]]:
    rows = [{"id": f"g{i}", "title": "USB charging cable", "brand": ""} for i in range(GENERIC)]
    pairs = []
    for i, (brand, kind) in enumerate(zip(BRANDS, KINDS, strict=True)):
        words = kind.split()
        rows.append({"id": f"p{i}a", "title": f"{brand.title()} {kind}", "brand": brand})
        reworded = " ".join([*words[1:], words[0]])  # another wording, the same words
        rows.append({"id": f"p{i}b", "title": f"{reworded} black", "brand": brand})
        pairs.append((f"p{i}a", f"p{i}b"))
    with (folder / "shop.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "title", "brand"])
        writer.writeheader()
        writer.writerows(rows)
    mapping = {
        "entity": "product",
        "sources": [
            {
                "name": "shop",
                "path": "shop.csv",
                "key": "id",
                "attributes": {"title": "title", "brand": "brand"},
            }
        ],
    }
    path = folder / "products.yaml"
    path.write_text(yaml.safe_dump(mapping))
    return path, pairs


def test_generic_titles_add_no_pairs_and_specific_ones_still_match(tmp_path: Path) -> None:
    path, true_pairs = _catalogue(tmp_path)
    report = resolve_mapping(load_mapping(path), tmp_path / "out")
    records = GENERIC + 2 * len(true_pairs)
    cap = plan_for(load_mapping(path)).matching.max_block_size
    (title_rule,) = [r for r in report["blocking"]["rules"] if "title_lsh" in r["rule"]]
    assert not title_rule["left_out"]
    # each record meets at most cap - 1 others per band; the 120 generic listings none
    assert title_rule["pairs"] <= lsh.BANDS * records * (cap - 1) // 2
    assert title_rule["pairs"] < GENERIC * (GENERIC - 1) // 2
    scored = pq.read_table(tmp_path / "out" / "pairs.parquet").to_pylist()
    generic = {f"g{i}" for i in range(GENERIC)}
    assert not [p for p in scored if {p["key_l"], p["key_r"]} <= generic]
    assert report["blocking"]["comparisons"] >= len(true_pairs)  # the rules still pair them
    masters = {
        r["source_key"]: r["master_id"]
        for r in pq.read_table(tmp_path / "out" / "clusters.parquet").to_pylist()
    }
    assert len({masters[k] for k in generic}) == GENERIC  # nothing says two are one product
    assert (
        json.loads((tmp_path / "out" / "report.json").read_text())["blocking"]
        == (report["blocking"])
    )


def _predicted(table: pa.Table, matching) -> set[tuple[str, str]]:
    """Every pair Splink's predict generates under the product rules (no threshold)."""
    records = DuckDBAPI(duckdb.connect()).register(table, table_name="catalogue")
    linker = Linker(records, settings(matching))
    pairs = linker.inference.predict().as_pyarrow_table()
    keys = dict(zip(table["record_id"].to_pylist(), table["source_key"].to_pylist(), strict=True))
    left, right = pairs["record_id_l"].to_pylist(), pairs["record_id_r"].to_pylist()
    return {tuple(sorted((keys[a], keys[b]))) for a, b in zip(left, right, strict=True)}


def test_predicted_pairs_are_the_counted_ones_and_skip_the_stop_bucket(tmp_path: Path) -> None:
    path, true_pairs = _catalogue(tmp_path)
    plan, table = read_records(load_mapping(path))
    bounded = without_stop_keys(table, plan.matching)
    predicted = _predicted(bounded, plan.matching)
    registered = DuckDBAPI(duckdb.connect()).register(bounded, table_name="counted")
    budget = within_budget(registered, plan.matching, record_count=bounded.num_rows)
    assert len(predicted) == budget.comparisons
    generic = {f"g{i}" for i in range(GENERIC)}
    assert not [p for p in predicted if set(p) <= generic]
    assert predicted >= set(true_pairs)  # reworded titles still meet in a bucket
    # the same records unbounded: every generic listing is paired with every other
    assert len([p for p in _predicted(table, plan.matching) if set(p) <= generic]) == 7140
