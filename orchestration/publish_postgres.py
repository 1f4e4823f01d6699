"""The PostgreSQL publication: the published file's tables, served to BI servers by PostgreSQL.

When `CW_PUBLISH_POSTGRES_URL` is set, every publication (and every refusal, which only changes
`publications`) also goes to PostgreSQL, from the staged reports file, so both carry the same
rows:

1. load: in one transaction, a fresh schema `reports_next` gets every table of the file with
   `COPY` (psycopg 3, streamed from a CSV that DuckDB writes: no Python loop per row, no DuckDB
   extension), exact types (numerics keep their scale; the marts' UTC timestamps become
   `timestamptz`), `NOT NULL`, primary keys and the `COMMENT`s of the file. A load that fails or
   is killed rolls back: `reports` is untouched, and the next load starts from scratch.
2. swap: in a second, short transaction, the served tables are locked, `reports` is renamed away,
   `reports_next` becomes `reports`, the old one is dropped. Readers see the old or the new
   version, never a mix: a transaction that has read a table of `reports` holds a lock on it, so
   the swap waits for it to end (with a short `lock_timeout`, retried, so it never queues new
   readers for long nor deadlocks with a reader); then new queries see the new tables.

Roles listed in `CW_PUBLISH_POSTGRES_READERS` (comma-separated, e.g. the BI server's login) get
`USAGE` on the schema and `SELECT` on its tables with each new version. Anything else created in
the `reports` schema is dropped with the old version: define views in the BI tool or elsewhere.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from orchestration.settings import connect_duckdb

log = logging.getLogger(__name__)

SERVED_SCHEMA = "reports"
NEXT_SCHEMA = "reports_next"
PREVIOUS_SCHEMA = "reports_previous"
SWAP_LOCK_TIMEOUT = "200ms"  # below PostgreSQL's deadlock_timeout (1 s): the swap yields first
COPY_CHUNK = 1 << 20


class PostgresPublicationError(RuntimeError):
    """The PostgreSQL publication failed; the served schema is untouched."""


_SIMPLE_TYPES = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(38, 0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20, 0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    # stored timestamps are UTC (reports.md): loaded with the session in UTC, they keep that zone
    "TIMESTAMP": "timestamptz",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "TIME": "time",
    "INTERVAL": "interval",
    "UUID": "uuid",
}


def postgres_type(duckdb_type: str, where: str) -> str:
    """The PostgreSQL type that holds every value of `duckdb_type` exactly."""
    upper = duckdb_type.upper()
    if upper.startswith("DECIMAL"):
        return "numeric" + upper.removeprefix("DECIMAL")
    if upper in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[upper]
    raise PostgresPublicationError(
        f"{where}: DuckDB type {duckdb_type} has no PostgreSQL mapping in publish_postgres.py"
    )


def _tables(source: duckdb.DuckDBPyConnection) -> list[tuple[str, str | None]]:
    return source.execute(
        "select table_name, comment from duckdb_tables() "
        "where database_name = current_database() and schema_name = 'main' order by table_name"
    ).fetchall()


def _columns(source: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str, bool, str]]:
    return source.execute(
        "select column_name, data_type, is_nullable, comment from duckdb_columns() "
        "where database_name = current_database() and schema_name = 'main' and table_name = ? "
        "order by column_index",
        [table],
    ).fetchall()


def _primary_key(source: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    row = source.execute(
        "select constraint_column_names from duckdb_constraints() "
        "where database_name = current_database() and schema_name = 'main' and table_name = ? "
        "and constraint_type = 'PRIMARY KEY'",
        [table],
    ).fetchone()
    return list(row[0]) if row else []


def _load_table(
    source: duckdb.DuckDBPyConnection,
    cursor: psycopg.Cursor,
    table: str,
    comment: str | None,
    exchange: Path,
) -> int:
    columns = _columns(source, table)
    target = sql.Identifier(NEXT_SCHEMA, table)
    definitions = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(name),
            sql.SQL(postgres_type(data_type, f"{table}.{name}")),
            sql.SQL("" if nullable else " not null"),
        )
        for name, data_type, nullable, _ in columns
    ]
    key = _primary_key(source, table)
    if key:
        definitions.append(
            sql.SQL("primary key ({})").format(sql.SQL(", ").join(map(sql.Identifier, key)))
        )
    cursor.execute(sql.SQL("create table {} ({})").format(target, sql.SQL(", ").join(definitions)))

    csv_path = exchange / f"{table}.csv"
    escaped = str(csv_path).replace("'", "''")
    source.execute(f"copy main.\"{table}\" to '{escaped}' (format csv, header false)")
    names = sql.SQL(", ").join(sql.Identifier(name) for name, *_ in columns)
    copy_sql = sql.SQL("copy {} ({}) from stdin (format csv)").format(target, names)
    with cursor.copy(copy_sql) as copy, csv_path.open("rb") as handle:
        while chunk := handle.read(COPY_CHUNK):
            copy.write(chunk)
    csv_path.unlink()

    cursor.execute(sql.SQL("comment on table {} is {}").format(target, sql.Literal(comment or "")))
    for name, _, _, column_comment in columns:
        cursor.execute(
            sql.SQL("comment on column {}.{} is {}").format(
                target, sql.Identifier(name), sql.Literal(column_comment or "")
            )
        )
    cursor.execute(sql.SQL("select count(*) from {}").format(target))
    return cursor.fetchone()[0]


def load_next(conn: psycopg.Connection, reports_path: Path, readers: list[str]) -> dict[str, int]:
    """Load every table of `reports_path` into a fresh `reports_next`, in one transaction."""
    counts = {}
    with (
        connect_duckdb(reports_path, read_only=True) as source,
        tempfile.TemporaryDirectory(prefix="cw-postgres-copy-") as exchange,
        conn.transaction(),
        conn.cursor() as cursor,
    ):
        cursor.execute("set local timezone = 'UTC'")
        cursor.execute(
            sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(NEXT_SCHEMA))
        )
        cursor.execute(sql.SQL("create schema {}").format(sql.Identifier(NEXT_SCHEMA)))
        for table, comment in _tables(source):
            counts[table] = _load_table(source, cursor, table, comment, Path(exchange))
        for role in readers:
            names = {"schema": sql.Identifier(NEXT_SCHEMA), "role": sql.Identifier(role)}
            cursor.execute(sql.SQL("grant usage on schema {schema} to {role}").format(**names))
            cursor.execute(
                sql.SQL("grant select on all tables in schema {schema} to {role}").format(**names)
            )
    return counts


def swap(conn: psycopg.Connection, wait_seconds: float) -> None:
    """Make `reports_next` the served `reports`, in one transaction, once no reader holds it."""
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        try:
            with conn.transaction(), conn.cursor() as cursor:
                cursor.execute(f"set local lock_timeout = '{SWAP_LOCK_TIMEOUT}'")
                cursor.execute(
                    "select tablename from pg_tables where schemaname = %s order by tablename",
                    [SERVED_SCHEMA],
                )
                served = [sql.Identifier(SERVED_SCHEMA, t) for (t,) in cursor.fetchall()]
                if served:
                    cursor.execute(
                        sql.SQL("lock table {} in access exclusive mode").format(
                            sql.SQL(", ").join(served)
                        )
                    )
                cursor.execute(
                    sql.SQL("drop schema if exists {} cascade").format(
                        sql.Identifier(PREVIOUS_SCHEMA)
                    )
                )
                cursor.execute(
                    "select count(*) from pg_namespace where nspname = %s", [SERVED_SCHEMA]
                )
                if cursor.fetchone()[0]:
                    cursor.execute(
                        sql.SQL("alter schema {} rename to {}").format(
                            sql.Identifier(SERVED_SCHEMA), sql.Identifier(PREVIOUS_SCHEMA)
                        )
                    )
                cursor.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(NEXT_SCHEMA), sql.Identifier(SERVED_SCHEMA)
                    )
                )
                cursor.execute(
                    sql.SQL("drop schema if exists {} cascade").format(
                        sql.Identifier(PREVIOUS_SCHEMA)
                    )
                )
            return
        except (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected) as error:
            if time.monotonic() >= deadline:
                raise PostgresPublicationError(
                    f"readers held `{SERVED_SCHEMA}` for more than {wait_seconds:.0f}s: the new "
                    f"version stays in `{NEXT_SCHEMA}`, `{SERVED_SCHEMA}` is untouched ({error})"
                ) from error
            log.info("PostgreSQL readers hold %s; retrying the swap", SERVED_SCHEMA)
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def publish_to_postgres(
    url: str, reports_path: Path, readers: list[str] | None = None, swap_wait_seconds: float = 600
) -> dict[str, int]:
    """Load the tables of `reports_path` into PostgreSQL and swap them in; rows per table."""
    try:
        with psycopg.connect(url, autocommit=True, application_name="campaign-warehouse") as conn:
            counts = load_next(conn, reports_path, readers or [])
            swap(conn, swap_wait_seconds)
    except psycopg.Error as error:
        raise PostgresPublicationError(
            f"PostgreSQL publication failed, `{SERVED_SCHEMA}` is untouched: {error}"
        ) from error
    return counts


def postgres_mirror(
    url: str | None, readers: list[str] | None = None
) -> Callable[[Path], object] | None:
    """The publication step for PostgreSQL, or None when no URL is configured."""
    if not url:
        return None
    return lambda reports_path: publish_to_postgres(url, reports_path, readers)
