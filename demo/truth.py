"""The ground truth beside the generated data: `truth/customers.csv` and `truth/products.csv`.

One row per well-formed source record (`source,source_key,entity_id`); the deliberately
malformed records are extra copies and not in it. Only evaluation reads these files.
"""

from __future__ import annotations

import csv
from pathlib import Path

TRUTH_HEADER = ("source", "source_key", "entity_id")


def write_truth(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRUTH_HEADER)
        writer.writerows(rows)
