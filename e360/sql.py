"""SQL text shared by every layer: identifiers are quoted one way, here."""

from __future__ import annotations


def quote(identifier: str) -> str:
    """`identifier` as a double-quoted SQL identifier (embedded quotes doubled)."""
    return '"' + identifier.replace('"', '""') + '"'
