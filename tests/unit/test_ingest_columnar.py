"""The columnar duplicate-key quarantine and raw table give what the per-row ones gave.

The per-row `_first_of_each_key` is kept below, verbatim but for names, as the reference.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

from e360.config import SourceConfig
from ingestion import batch, readers
from ingestion.rows import Reject, payload_hashes


def _reference_first_of_each_key(
    rows: list[dict[str, str | None]], numbers: list[int], rejects: list[Reject], key: str
) -> tuple[list[dict[str, str | None]], list[int], list[Reject], list[str]]:
    kept_rows, kept_numbers, kept_rejects = [], [], list(rejects)
    first: dict[str, tuple[int, dict[str, str | None]]] = {}
    duplicates: list[str] = []
    for number, values in zip(numbers, rows, strict=True):
        value = (values.get(key) or "").strip()
        if value in first:
            at, earlier = first[value]
            same = "identical to" if earlier == values else "differs from"
            reason = f"duplicate key '{value}' in this file ({same} row {at})"
            kept_rejects.append(Reject(number, readers.as_raw(values), reason))
            if value not in duplicates:
                duplicates.append(value)
            continue
        first[value] = (number, values)
        kept_rows.append(values)
        kept_numbers.append(number)
    kept_rejects.sort(key=lambda r: (r.row is None, r.row or 0))
    return kept_rows, kept_numbers, kept_rejects, duplicates


def _source(fmt: str) -> SourceConfig:
    return SourceConfig(entity="customer", format=fmt, path="x", key="id", mapping={})


FILES = {
    "c.csv": "id,email,note\n1,a@x.com,x\n2,b@x.com,y\n1,a@x.com,x\n 2 ,b@x.com,z\n"
    "3,c,\n4,d,w,extra\n\u30003\u3000,c,\n1,a@x.com,x\n5,é,東京\n",
    "a.jsonl": '{"id": "1", "e": "a"}\n{"id": "1", "e": "a"}\n{"e": "a", "id": "1"}\n'
    '{"id": "1", "e": null}\n{"id": "1"}\n{"id": "2", "Email": "x"}\n{"id": "2 ", "email": "x"}\n'
    '{"id": "\\u00a02", "n": 1}\nnot json\n',
}


def test_duplicate_keys_are_quarantined_as_the_per_row_code_did(tmp_path: Path) -> None:
    for name, text in FILES.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        source = _source(name.split(".")[1])
        read = readers.read_file(path, source)
        want = _reference_first_of_each_key(read.rows, read.row_numbers, read.rejects, "id")
        kept, duplicates = batch._first_of_each_key(read, "id")
        assert (kept.rows, kept.row_numbers, kept.rejects, duplicates) == want
        assert duplicates  # every file has some
        hashes = payload_hashes(kept)
        table = batch._raw_table("s", "b", datetime(2026, 1, 1), name, kept, hashes)
        assert table.column("_row").to_pylist() == want[1]
        assert table.column("_payload_hash").to_pylist() == [
            hashlib.sha256(json.dumps(r, sort_keys=True).encode()).hexdigest() for r in want[0]
        ]
        assert table.select(kept.columns).to_pylist() == [
            {c: r.get(c) for c in kept.columns} for r in want[0]
        ]


def test_blank_and_stripped_are_pythons_strip_for_every_whitespace_character() -> None:
    import sys

    import pyarrow as pa

    from ingestion.rows import blank, stripped

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    values = [None, "", "x", "\u200b", "a b", *spaces, *(f"{s}k{s}" for s in spaces)]
    values += ["".join(spaces), "\x1fé\x1c", "東京\u3000"]
    column = pa.array(values, pa.string())
    assert stripped(column).to_pylist() == [(v or "").strip() for v in values]
    assert blank(column).to_pylist() == [v is None or not v.strip() for v in values]
    plain = pa.array(["a", None, "b c"], pa.string())
    assert stripped(plain).to_pylist() == ["a", "", "b c"]
