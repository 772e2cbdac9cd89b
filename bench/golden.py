"""Golden records (`golden_table` on DuckDB) by three versions of the survivorship SQL, in one
process on the same members:

- ordered:    DuckDB's ordered `first(... order by)` per attribute (commit 80f40a9, DuckDB only)
- windowed:   one `row_number()` window per attribute (commit dab2c45, portable)
- sort keys:  the working tree (one `arg_min` per attribute over a struct sort key, portable)

    .venv/bin/python -m bench.golden [customers] [rounds]

The members: the demo's standardized customers, each record's master its true customer
(the demo's truth file), so masters have the sizes the generator gives real people.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from bench.run import DEMO_CONFIG
from demo import generate_demo_data
from e360.config import load_config
from e360.dataflow import DuckDBDataflow
from e360.entities import CANONICAL_ATTRIBUTES, MasteredEntity
from e360.lake import Lake
from e360.zones import display_columns
from ingestion.batch import ingest_source
from matching.mastering import masters
from matching.standardize.zone import build_standardized

ENTITY: MasteredEntity = "customer"
REPO = Path(__file__).resolve().parent.parent
VERSIONS = {"ordered": "80f40a9", "windowed": "dab2c45"}


def _module_at(commit: str, name: str, path: str, replace: dict[str, str]) -> types.ModuleType:
    source = subprocess.run(
        ["git", "show", f"{commit}:{path}"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout
    for old, new in replace.items():
        source = source.replace(old, new)
    module = types.ModuleType(name)
    sys.modules[name] = module
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)
    return module


def _masters_at(commit: str) -> types.ModuleType:
    survivorship = f"survivorship_{commit}"
    _module_at(commit, survivorship, "matching/mastering/survivorship.py", {})
    return _module_at(
        commit,
        f"masters_{commit}",
        "matching/mastering/masters.py",
        {"matching.mastering.survivorship": survivorship},
    )


def members(customers: int) -> pa.Table:
    """The standardized customers with their true customer as master_id."""
    root = Path(tempfile.gettempdir()) / f"e360-bench-golden-{customers}"
    config = load_config(DEMO_CONFIG, overrides={"project.root": str(root)}, environ={})
    if not (root / "landing").exists():
        generate_demo_data(root, customers=customers, seed=42)
    lake = Lake.from_config(config)
    records = lake.read("standardized", ENTITY)
    if records is None:
        for name, source in config.sources_of(ENTITY).items():
            ingest_source(lake, name, source, config.landing_dir, "b1")
        records = build_standardized(config, lake, ENTITY)
    truth = pacsv.read_csv(root / "truth" / "customers.csv")
    con = duckdb.connect()
    con.register("records", records)
    con.register("truth", truth)
    return con.sql(
        "select r.*, t.entity_id as master_id from records r "
        "join truth t on t.source = r.source and t.source_key = r.source_key"
    ).to_arrow_table()


def main(customers: int, rounds: int) -> None:
    table = members(customers)
    config = load_config(DEMO_CONFIG, overrides={"project.root": "/tmp"}, environ={})
    survivorship = config.entities[ENTITY].survivorship
    attributes = CANONICAL_ATTRIBUTES[ENTITY]
    modules = {name: _masters_at(commit) for name, commit in VERSIONS.items()}
    modules["sort keys"] = masters
    masters_count = len(set(table.column("master_id").to_pylist()))
    print(f"{table.num_rows:,} members of {masters_count:,} masters")
    results: dict[str, pa.Table] = {}
    for round_ in range(rounds):
        for name, module in modules.items():
            flow = DuckDBDataflow()
            flow.register("standardized_members", table)
            started = time.perf_counter()
            # the ordered version's golden_table took the DuckDB connection itself
            target = flow.con if name == "ordered" else flow
            golden = module.golden_table(
                target, attributes, survivorship, run_id="r", displays=display_columns(ENTITY)
            )
            print(f"round {round_ + 1} | {name} | {time.perf_counter() - started:.2f} s")
            flow.close()
            results.setdefault(name, golden)
    want = results["ordered"]
    for name, golden in results.items():
        same = golden.cast(want.schema).equals(want)
        print(f"{name}: {golden.num_rows:,} golden records, equal to ordered: {same}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 100_000,
        int(sys.argv[2]) if len(sys.argv) > 2 else 2,
    )
