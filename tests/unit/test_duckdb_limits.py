"""The embedded engine is bounded: a memory limit whatever the configuration says, and what
exceeds it spills under the project, not into the folder the process started in."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from e360.config import EngineSettings
from matching.resolution.engine import duckdb_connection


def _setting(con, name: str) -> str:
    return str(con.execute(f"select current_setting('{name}')").fetchone()[0])


def _bytes(limit: str) -> float:
    number, unit = limit.split()
    return float(number) * {"MiB": 2**20, "GiB": 2**30, "KiB": 2**10}[unit]


def test_by_default_a_quarter_of_the_machine_spilling_under_the_root(tmp_path: Path) -> None:
    con = duckdb_connection(EngineSettings(), tmp_path)
    total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert _bytes(_setting(con, "memory_limit")) == pytest.approx(max(total / 4, 2**30), rel=0.02)
    assert Path(_setting(con, "temp_directory")) == tmp_path / "duckdb-spill"


def test_the_configured_limit_and_folder_win(tmp_path: Path) -> None:
    settings = EngineSettings(memory_limit="200MB", spill_dir=str(tmp_path / "fast"))
    con = duckdb_connection(settings, tmp_path)
    assert _bytes(_setting(con, "memory_limit")) == pytest.approx(200e6, rel=0.01)
    assert Path(_setting(con, "temp_directory")) == tmp_path / "fast"


def test_a_query_over_the_limit_spills_there_and_completes(tmp_path: Path) -> None:
    con = duckdb_connection(EngineSettings(memory_limit="64MB", threads=1), tmp_path)
    con.execute("set preserve_insertion_order = false")
    # a sort of about 400 MB of rows: several times the limit
    con.execute(
        "create table sorted as select i, md5(i::varchar) || md5((i + 1)::varchar) as h "
        "from range(4000000) t(i) order by h"
    )
    assert con.execute("select count(*) from sorted").fetchone() == (4_000_000,)
    assert (tmp_path / "duckdb-spill").is_dir()
