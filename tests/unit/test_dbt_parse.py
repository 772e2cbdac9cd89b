"""dbt's saved parse kept between builds (`e360.warehouse.dbt_runner.partial_parse`)."""

from __future__ import annotations

from pathlib import Path

from e360.warehouse.dbt_runner import PARTIAL_PARSE, partial_parse


def _build(kept: Path, target: Path, key: dict, writes: bytes | None) -> bytes | None:
    """One build: what it found in its target folder, after writing `writes` as dbt would."""
    with partial_parse(kept, target, key):
        saved = target / PARTIAL_PARSE
        found = saved.read_bytes() if saved.exists() else None
        if writes is not None:
            saved.write_bytes(writes)
    return found


def test_a_build_starts_from_the_last_saved_parse_of_the_same_key(tmp_path: Path) -> None:
    kept, key = tmp_path / "kept", {"target": "duckdb", "E360_DUCKDB_PATH": "/a.duckdb"}
    assert _build(kept, tmp_path / "run1", key, b"parse 1") is None  # nothing saved yet
    assert _build(kept, tmp_path / "run2", key, b"parse 2") == b"parse 1"
    assert _build(kept, tmp_path / "run3", key, None) == b"parse 2"  # dbt wrote none: kept


def test_another_connection_starts_afresh_and_replaces_the_saved_parse(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    first, moved = {"E360_DUCKDB_PATH": "/a.duckdb"}, {"E360_DUCKDB_PATH": "/b.duckdb"}
    _build(kept, tmp_path / "run1", first, b"for a")
    assert _build(kept, tmp_path / "run2", moved, b"for b") is None
    assert [p.read_bytes() for p in kept.iterdir()] == [b"for b"]  # one kept, nothing half-written
    assert _build(kept, tmp_path / "run3", first, None) is None
