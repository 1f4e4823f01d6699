"""A real PostgreSQL server for the publication tests, started by the test session itself.

Debian's `postgresql` package (`make install` installs it when missing): `initdb` and `pg_ctl`
run as the `postgres` user (initdb refuses root), on a Unix socket in a temp folder, no TCP.
Each test gets its own database.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest


def postgres_bindir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(found[-1]).parent if found else None


def _as_postgres(args: list[str]) -> list[str]:
    """Run as the `postgres` user when we are root (initdb refuses root)."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *args]
    return args


@pytest.fixture(scope="session")
def postgres_server():
    """The base connection URL of a PostgreSQL server on a Unix socket in a temp folder."""
    bindir = postgres_bindir()
    if bindir is None:
        pytest.fail("PostgreSQL is not installed: run `make install` (apt-get install postgresql)")
    base = Path(tempfile.mkdtemp(prefix="cw-pg-"))
    data, socket_dir = base / "data", base / "socket"
    socket_dir.mkdir()
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(socket_dir, "postgres", "postgres")
    subprocess.run(
        _as_postgres(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-k {socket_dir} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(base / "log"),
                "-w",
                "start",
            ]  # fmt: skip
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql://postgres@/postgres?host={socket_dir}"
    finally:
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh database on the session's server, dropped after the test."""
    name = f"cw_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'create database "{name}"')
    url = postgres_server.replace("/postgres?", f"/{name}?")
    yield url
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'drop database "{name}" with (force)')
