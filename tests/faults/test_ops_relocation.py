"""A copied project folder works on its own files: the lake's absolute Iceberg locations are
mapped to where the lake now is, and the original is never read-modified or written."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import yaml

from demo import generate_demo_data
from e360.cli import main
from e360.config import load_config
from e360.lake import Lake


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _add_crm_file(root: Path, rows: int) -> None:
    folder = root / "landing" / "crm"
    with next(folder.glob("*.csv")).open(newline="") as handle:
        header = next(csv.reader(handle))  # every mapped column, as the demo files have them
    with (folder / "crm_copy_only.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, header, restval="")
        writer.writeheader()
        for i in range(rows):
            writer.writerow(
                {
                    "customer_id": f"COPY{i:04d}",
                    "first_name": f"Ann{i}",
                    "last_name": "Smith",
                    "email": f"ann{i}@copy.org",
                    "updated_at": "01/02/2024",
                }
            )


def test_a_copied_project_runs_on_its_own_files_and_leaves_the_original_untouched(
    tmp_path: Path, demo_config_path: Path
) -> None:
    original = tmp_path / "original"
    original.mkdir()
    data = yaml.safe_load(demo_config_path.read_text())
    data["project"]["root"] = "."  # the project folder is the configuration's folder
    data["quality"] = {"max_quarantine_rate": 0.2}
    (original / "e360.yaml").write_text(yaml.safe_dump(data))
    generate_demo_data(original, customers=40, seed=5)
    assert main(["ingest", "--config", str(original / "e360.yaml")]) == 0
    assert main(["match", "--config", str(original / "e360.yaml"), "-e", "customer"]) == 0
    raw_before = Lake.from_config(load_config(original / "e360.yaml")).read("raw", "crm__customer")
    before = _listing(original)

    copy = tmp_path / "copy"
    shutil.copytree(original, copy)
    _add_crm_file(copy, 7)
    assert main(["ingest", "--config", str(copy / "e360.yaml")]) == 0
    assert main(["match", "--config", str(copy / "e360.yaml"), "-e", "customer"]) == 0

    assert _listing(original) == before
    original_lake = Lake.from_config(load_config(original / "e360.yaml"))
    copy_lake = Lake.from_config(load_config(copy / "e360.yaml"))
    assert original_lake.read("raw", "crm__customer").num_rows == raw_before.num_rows
    copied = copy_lake.read("raw", "crm__customer")
    assert copied.num_rows == raw_before.num_rows + 7
    keys = copied.column("customer_id").to_pylist()
    assert sum(k.startswith("COPY") for k in keys) == 7
    # and a copy of the copy still works on its own files
    second = tmp_path / "second"
    shutil.copytree(copy, second)
    before_copy = _listing(copy)
    assert main(["match", "--config", str(second / "e360.yaml"), "-e", "customer"]) == 0
    assert _listing(copy) == before_copy and _listing(original) == before
