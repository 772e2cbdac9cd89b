"""SQL fragments of the configuration checked at load: they parse, and every column exists.

Blocking, deterministic and EM rules compare two records (`l.` and `r.` columns; the list
form names plain columns); survivorship expressions read one member record. Each is parsed
with sqlglot (DuckDB dialect) and its column references are bound against the entity's
standardized columns, so a typo fails `load_config` naming the key, not `match` 40 s later
with a raw engine error. On the DuckDB engine `DuckDBBinder` then has DuckDB plan each
fragment over empty tables of those columns: unknown functions and impossible types too.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError

PAIR_PREFIXES = ("l", "r")


def _parse(sql: str) -> exp.Expr | str:
    """The parsed fragment, or a one-line reason it does not parse."""
    try:
        parsed = sqlglot.parse(sql, read="duckdb")
    except ParseError as exc:
        first = exc.errors[0] if exc.errors else {}
        description = first.get("description") or "cannot parse"
        if description.startswith("Required keyword"):  # sqlglot names its own classes
            description = "an incomplete expression"
        line, column = first.get("line"), first.get("col")
        where = f" (line {line}, column {column})" if line and sql.count("\n") else ""
        if not line:
            return f"not valid SQL: {description}"
        return f"not valid SQL: {description} near column {column}{where}"
    except SqlglotError as exc:  # tokenizer and other parser failures
        return f"not valid SQL: {exc}"
    statements = [statement for statement in parsed if statement is not None]
    if len(statements) != 1:
        return "not valid SQL: give exactly one expression"
    statement = statements[0]
    if isinstance(statement, exp.Query | exp.DDL | exp.DML | exp.Command):
        return "not valid SQL: give an expression, not a statement"
    return statement


def _columns(expression: exp.Expr) -> list[exp.Column]:
    """Column references, lambda parameters (`x -> x + 1`) excluded."""
    bound = {
        identifier.name
        for lam in expression.find_all(exp.Lambda)
        for identifier in lam.expressions
        if isinstance(identifier, exp.Identifier | exp.Column)
    }
    return [
        column
        for column in expression.find_all(exp.Column)
        if not (not column.table and column.name in bound) and not column.is_star
    ]


def _unknown(names: list[str], allowed: Collection[str], what: str) -> str | None:
    unknown = sorted(dict.fromkeys(n for n in names if n not in allowed))
    if not unknown:
        return None
    return f"unknown {what} {unknown}; the columns are {sorted(allowed)}"


def pair_rule_problem(sql: str, allowed: Collection[str]) -> str | None:
    """Why a SQL condition on a pair of records (`l.x = r.x`) is unusable, or None."""
    parsed = _parse(sql)
    if isinstance(parsed, str):
        return parsed
    columns = _columns(parsed)
    unprefixed = sorted({c.sql(dialect="duckdb") for c in columns if c.table not in PAIR_PREFIXES})
    if unprefixed:
        return f"columns {unprefixed} need an l. or r. prefix (the two records of a pair)"
    if not columns:
        return "the rule reads no column of the two records"
    return _unknown([c.name for c in columns], allowed, "columns")


def record_expression_problem(sql: str, allowed: Collection[str]) -> str | None:
    """Why a SQL expression over one record's columns is unusable, or None."""
    parsed = _parse(sql)
    if isinstance(parsed, str):
        return parsed
    columns = _columns(parsed)
    prefixed = sorted({c.sql(dialect="duckdb") for c in columns if c.table})
    if prefixed:
        return f"columns {prefixed}: name the record's columns without a prefix"
    return _unknown([c.name for c in columns], allowed, "columns")


class DuckDBBinder:
    """DuckDB's own binder over empty tables (`records`: one record's columns): a fragment it
    cannot plan would fail the same way at run time. One per column set, answers cached:
    configurations are loaded often and their fragments rarely change."""

    def __init__(self, columns: Sequence[tuple[str, Any]]) -> None:
        import duckdb
        import pyarrow as pa

        self._con = duckdb.connect()
        self._con.register("records", pa.schema(list(columns)).empty_table())
        self._guard = threading.Lock()
        self._answers: dict[str, str | None] = {}

    @classmethod
    def for_columns(cls, columns: Sequence[tuple[str, Any]]) -> DuckDBBinder:
        key = tuple((name, str(kind)) for name, kind in columns)
        with _BINDERS_GUARD:
            binder = _BINDERS.get(key)
            if binder is None:
                binder = _BINDERS[key] = cls(columns)
            return binder

    def _problem(self, select: str) -> str | None:
        import duckdb

        with self._guard:
            if select in self._answers:
                return self._answers[select]
            try:
                self._con.execute(f"explain {select}")
                answer = None
            except duckdb.Error as exc:
                lines = str(exc).strip().splitlines() or [type(exc).__name__]
                answer = f"DuckDB cannot run it: {lines[0]}"
            self._answers[select] = answer
            return answer

    def pair_rule(self, sql: str) -> str | None:
        return self._problem(f"select 1 from records as l, records as r where ({sql})")

    def record_expression(self, sql: str) -> str | None:
        return self._problem(f"select ({sql}) from records")


_BINDERS: dict[tuple[tuple[str, str], ...], DuckDBBinder] = {}
_BINDERS_GUARD = threading.Lock()
