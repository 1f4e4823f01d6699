"""Row counts and order-independent checksums of tables, equal across DuckDB and PostgreSQL."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from decimal import Decimal

import duckdb
import psycopg


def _normal(value):
    """One text form per value, whichever engine returned it (timestamps in UTC)."""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat()
    if isinstance(value, Decimal):
        return f"decimal:{value}"  # keeps the scale: 12.50 is not 12.5
    if isinstance(value, float):
        return f"float:{value!r}"
    return repr(value)


def checksum(rows) -> tuple[int, str]:
    """(rows, a digest of the sorted row hashes): equal iff the same multiset of rows."""
    digests = sorted(
        hashlib.sha256("\x1f".join(map(_normal, row)).encode()).hexdigest() for row in rows
    )
    return len(digests), hashlib.sha256("".join(digests).encode()).hexdigest()


def duckdb_checksums(path) -> dict[str, tuple[int, str]]:
    with duckdb.connect(str(path), read_only=True) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'"
            ).fetchall()
        ]
        return {t: checksum(conn.execute(f'select * from "{t}"').fetchall()) for t in tables}


def postgres_checksums(conn: psycopg.Connection, schema: str = "reports") -> dict:
    tables = [
        t
        for (t,) in conn.execute(
            "select tablename from pg_tables where schemaname = %s", [schema]
        ).fetchall()
    ]
    return {t: checksum(conn.execute(f'select * from "{schema}"."{t}"').fetchall()) for t in tables}
