"""DDL of the raw and audit tables (docs/architecture.md), created idempotently."""

from __future__ import annotations

import duckdb

from . import registry
from .feeds import FEEDS, FeedSpec, child_columns, raw_columns
from .sqlutil import ident

LINEAGE_COLUMNS: list[tuple[str, str]] = [
    ("_file_hash", "VARCHAR NOT NULL"),
    ("_row_number", "BIGINT NOT NULL"),
    ("_ingested_at", "TIMESTAMP NOT NULL"),
]
RECORD_HASH_COLUMN = "_record_hash"  # replay key of whole-record feeds

INGESTED_FILES_DDL = """
CREATE TABLE IF NOT EXISTS audit.ingested_files (
    file_hash        VARCHAR,  -- NULL: the file could not be read (registry.py: keys)
    feed             VARCHAR NOT NULL,
    path             VARCHAR NOT NULL,
    size_bytes       BIGINT NOT NULL,
    status           VARCHAR NOT NULL CHECK (status IN ('loaded', 'rejected')),
    error            VARCHAR,
    rows_read        BIGINT NOT NULL,
    rows_loaded      BIGINT NOT NULL,
    rows_replayed    BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    ingested_at      TIMESTAMP NOT NULL,
    CHECK (rows_read = rows_loaded + rows_replayed + rows_quarantined),
    CHECK (file_hash IS NOT NULL OR status = 'rejected')
)"""

QUARANTINE_DDL = """
CREATE TABLE IF NOT EXISTS audit.quarantine (
    feed           VARCHAR NOT NULL,
    file_hash      VARCHAR,
    path           VARCHAR NOT NULL,
    row_number     BIGINT,
    reason         VARCHAR NOT NULL,
    raw_text       VARCHAR,
    quarantined_at TIMESTAMP NOT NULL
)"""


def raw_table_columns(spec: FeedSpec) -> list[tuple[str, str]]:
    """All columns of the feed's main raw table, in order."""
    cols = raw_columns(spec) + [("extra", "VARCHAR")]
    if spec.whole_record_key:
        cols.append((RECORD_HASH_COLUMN, "VARCHAR NOT NULL"))
    return cols + LINEAGE_COLUMNS


def child_table_columns(spec: FeedSpec) -> list[tuple[str, str]]:
    return child_columns(spec) + [("extra", "VARCHAR")] + LINEAGE_COLUMNS


def _create(table: str, columns: list[tuple[str, str]]) -> str:
    body = ",\n    ".join(f"{ident(c)} {t}" for c, t in columns)
    return f"CREATE TABLE IF NOT EXISTS raw.{ident(table)} (\n    {body}\n)"


def ddl() -> list[str]:
    statements = [
        "CREATE SCHEMA IF NOT EXISTS raw",
        "CREATE SCHEMA IF NOT EXISTS audit",
        INGESTED_FILES_DDL,
        QUARANTINE_DDL,
    ]
    for spec in FEEDS.values():
        statements.append(_create(spec.table, raw_table_columns(spec)))
        if spec.child:
            statements.append(_create(spec.child.table, child_table_columns(spec)))
    return statements


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw and audit schemas and every table (all feeds, so dbt sources exist)."""
    for sql in ddl():
        con.execute(sql)
    registry.upgrade(con, INGESTED_FILES_DDL)
    add_new_columns(con)


def add_new_columns(con: duckdb.DuckDBPyConnection) -> None:
    """A raw table created before a column was added to its feed (``email_domain``) gets it, as
    NULL for the rows loaded before: inserts name their columns, so the order does not matter."""
    existing = set(
        con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'raw' AND table_catalog = current_database()"
        ).fetchall()
    )
    for spec in FEEDS.values():
        for column, sql_type in raw_columns(spec):
            if (spec.table, column) not in existing:
                table, name = ident(spec.table), ident(column)
                con.execute(f"ALTER TABLE raw.{table} ADD COLUMN {name} {sql_type}")
