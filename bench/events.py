"""Event conformance, SQL on the dataflow against the per-row Python it replaced.

On generated demo data (ingested only: conformance needs the raw zone and a record -> master
mapping, here every customer and product record its own master), conforms every event
source with one implementation per process and reports wall seconds and the process's peak
RSS. The per-row reference lives in the equivalence test (`tests/integration/test_events_sql.py`).

    python -m bench.events --customers 100000 --impl sql
    python -m bench.events --customers 100000 --impl reference
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from demo import generate_demo_data
from e360.config import E360Config, load_config
from e360.lake import Lake
from e360.zones import CONFORMED_EVENT_REJECTS, CONFORMED_EVENTS, raw_table_name
from ingestion.batch import ingest_source
from matching.mastering.events import build_conformed_events

BENCH_DIR = Path(__file__).resolve().parent
CONFIG = BENCH_DIR.parent / "examples" / "demo" / "e360.yaml"


def _prepared(root: Path, customers: int) -> tuple[E360Config, Lake]:
    config = load_config(CONFIG, overrides={"project.root": str(root)}, environ={})
    lake = Lake.from_config(config)
    if not (root / "ingested").exists():
        generate_demo_data(root, customers=customers, seed=42)
        for name, source in config.sources.items():
            ingest_source(lake, name, source, config.landing_dir, "bench")
        (root / "ingested").touch()
    return config, lake


def _own_masters(config: E360Config, lake: Lake, entity: str) -> pa.Table:
    parts = []
    for name, source in config.sources_of(entity).items():
        keys = lake.read("raw", raw_table_name(name, source), columns=(source.key,))
        assert keys is not None
        ids = pc.binary_join_element_wise(name, pc.utf8_trim_whitespace(keys.column(0)), ":")
        parts.append(pa.table({"record_id": ids, "master_id": ids}))
    masters = pa.concat_tables(parts).cast(
        pa.schema([("record_id", pa.string()), ("master_id", pa.string())])
    )
    return (
        masters.group_by("record_id")
        .aggregate([("master_id", "max")])
        .rename_columns(["record_id", "master_id"])
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--impl", choices=("sql", "reference"), default="sql")
    parser.add_argument("--dir", type=Path, default=None)
    args = parser.parse_args()
    root = args.dir or BENCH_DIR.parent / ".e360" / f"bench-events-{args.customers}"
    config, lake = _prepared(root, args.customers)
    customers, products = (_own_masters(config, lake, e) for e in ("customer", "product"))
    start = time.perf_counter()
    if args.impl == "sql":
        counts = build_conformed_events(config, lake, customers, products, "bench")
        conformed = sum(c.conformed for c in counts)
    else:
        sys.path.insert(0, str(BENCH_DIR.parent / "tests" / "integration"))
        from test_events_sql import reference_build  # the per-row path, kept as the reference

        as_dict = {
            entity: dict(zip(t.column(0).to_pylist(), t.column(1).to_pylist(), strict=True))
            for entity, t in (("customer", customers), ("product", products))
        }
        events, rejects, _ = reference_build(
            config, lake, as_dict["customer"], as_dict["product"], "bench"
        )
        lake.replace("conformed", CONFORMED_EVENTS, events)
        lake.replace("conformed", CONFORMED_EVENT_REJECTS, rejects)
        conformed = events.num_rows
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.impl}: {args.customers} customers, {conformed} events conformed, "
          f"{seconds:.1f} s, peak RSS {peak:.0f} MiB")  # fmt: skip


if __name__ == "__main__":
    main()
