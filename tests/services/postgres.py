"""A real PostgreSQL server for the session: initdb + pg_ctl as the `postgres` user in a
temporary directory it owns, on a free 127.0.0.1 port, stopped and removed at session end.

Under CI (`CI=true`) a server that cannot start fails the tests that need it; elsewhere they
are skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from services._util import free_port, unavailable, wait_for_port

PG_BIN = Path(os.environ.get("E360_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"


@dataclass
class PostgresServer:
    host: str
    port: int
    user: str = SUPERUSER

    def connect(self, dbname: str = "postgres") -> Any:  # a psycopg2 connection
        import psycopg2

        return psycopg2.connect(host=self.host, port=self.port, user=self.user, dbname=dbname)

    def create_database(self, prefix: str = "e360") -> str:
        """A fresh, empty database for one test (module): no state leaks between them."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        con = self.connect()
        con.autocommit = True
        try:
            with con.cursor() as cursor:
                cursor.execute(f'create database "{name}"')
        finally:
            con.close()
        return name


def _as_postgres(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    as_root = hasattr(os, "geteuid") and os.geteuid() == 0
    if as_root:  # initdb refuses to run as root
        command = ["su", SUPERUSER, "-s", "/bin/sh", "-c", " ".join(command)]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    if not (PG_BIN / "initdb").exists():
        unavailable(f"PostgreSQL binaries not found in {PG_BIN} (set E360_PG_BIN)")
    root = Path(tempfile.mkdtemp(prefix="e360-pg-"))
    data = root / "data"
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        shutil.chown(root, SUPERUSER, SUPERUSER)
    port = free_port()
    init = _as_postgres(
        [str(PG_BIN / "initdb"), "-D", str(data), "-U", SUPERUSER, "-A", "trust",
         "--no-sync", "-E", "UTF8", "--locale=C.UTF-8"],
        root,
    )  # fmt: skip
    if init.returncode != 0:
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"initdb failed: {init.stderr.strip() or init.stdout.strip()}")
    # Test server: no fsync, sockets only in its own folder, TCP only on 127.0.0.1.
    options = (
        f"-c listen_addresses=127.0.0.1 -c port={port} -c fsync=off -c full_page_writes=off "
        f"-c synchronous_commit=off -c unix_socket_directories={root} -c max_connections=50"
    )
    start = _as_postgres(
        [str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(root / "server.log"), "-w",
         "-t", "60", "-o", f"'{options}'", "start"],
        root,
    )  # fmt: skip
    if start.returncode != 0 or not wait_for_port(port):
        log = (root / "server.log").read_text() if (root / "server.log").exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        unavailable(f"PostgreSQL did not start: {start.stderr.strip()} {log[-500:]}")
    try:
        yield PostgresServer("127.0.0.1", port)
    finally:
        _as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"], root)
        shutil.rmtree(root, ignore_errors=True)
