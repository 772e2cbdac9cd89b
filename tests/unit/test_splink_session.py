"""Splink's plain exceptions become one MatchError naming what failed; the backend is closed."""

from __future__ import annotations

import duckdb
import pytest

from e360.errors import ConfigError, MatchError
from matching.resolution.engine import splink_session
from matching.resolution.splink_adapter import DuckDBAPI


def _closed(con: duckdb.DuckDBPyConnection) -> bool:
    try:
        con.execute("select 1")
    except duckdb.ConnectionException:
        return True
    return False


def test_a_splink_exception_names_the_subject_and_stage_and_the_backend_closes() -> None:
    con = duckdb.connect()
    failure = r"^customer: training failed: ValueError: math domain"
    with (
        pytest.raises(MatchError, match=failure),
        splink_session(DuckDBAPI(con), "customer", "training"),
    ):
        raise ValueError("math domain error")
    assert _closed(con)


def test_e360_errors_pass_unchanged() -> None:
    con = duckdb.connect()
    with (
        pytest.raises(ConfigError, match=r"^map\.yaml: bad$"),
        splink_session(DuckDBAPI(con), "map.yaml"),
    ):
        raise ConfigError("map.yaml: bad")
    assert _closed(con)


def test_a_clean_session_closes_the_backend_too() -> None:
    con = duckdb.connect()
    with splink_session(DuckDBAPI(con), "product"):
        assert con.execute("select 41 + 1").fetchone() == (42,)
    assert _closed(con)
