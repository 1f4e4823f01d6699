"""audit.ingested_files: one row per processed landed file, with its accounting.

Invariant (also a CHECK constraint): rows_read = rows_loaded + rows_replayed + rows_quarantined.
A rejected file (unreadable, unknown feed, unsupported type, lacking a required column) has all
counts 0, its error in ``error`` and one audit.quarantine row with a null row_number.

Which files are known, i.e. skipped by later runs (``KnownFiles``):
- a *loaded* file is known by its bytes: the same content hash under any path is a no-op;
- a *rejected* file is known only by (content hash, path): a rejection does not poison the bytes,
  so the same bytes landed again under another name, extension or folder are read again;
- a file that could not be read (no hash: permissions, a dangling link) is never known: every run
  tries it again. Its registry and quarantine rows (file_hash NULL) describe the latest attempt:
  each attempt replaces them, and they go once the path is read.
So file_hash is unique among loaded rows, and (file_hash, path) among rejected ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import duckdb

from . import quarantine
from .discovery import LandedFile
from .report import LOADED, REJECTED, FileReport


@dataclass
class KnownFiles:
    loaded: set[str] = field(default_factory=set)  # content hashes of loaded files
    rejected: set[tuple[str, str]] = field(default_factory=set)  # (hash, path) of rejected ones

    @classmethod
    def load(cls, con: duckdb.DuckDBPyConnection) -> KnownFiles:
        known = cls()
        for file_hash, path, status in con.execute(
            "SELECT file_hash, path, status FROM audit.ingested_files WHERE file_hash IS NOT NULL"
        ).fetchall():
            if status == LOADED:
                known.loaded.add(file_hash)
            else:
                known.rejected.add((file_hash, path))
        return known

    def has(self, landed: LandedFile) -> bool:
        if landed.sha256 is None:
            return False
        return landed.sha256 in self.loaded or (landed.sha256, landed.rel_path) in self.rejected

    def claim(self, landed: LandedFile) -> None:
        """The file is read in this run: its bytes elsewhere are known from now on."""
        if landed.sha256 is not None:
            self.loaded.add(landed.sha256)


def register(con: duckdb.DuckDBPyConnection, result: FileReport, ingested_at: datetime) -> None:
    """Insert the registry row of one processed file (inside the file's transaction)."""
    if result.status not in (LOADED, REJECTED):
        raise ValueError(f"cannot register a file with status {result.status!r}")
    # the rows of an earlier attempt that could not read this path are superseded (the registry,
    # one row per file, is asked first: the quarantine table is the big one)
    unreadable_before = con.execute(
        "SELECT count(*) FROM audit.ingested_files WHERE file_hash IS NULL AND path = ?",
        [result.path],
    ).fetchone()[0]
    if unreadable_before:
        for table in ("audit.ingested_files", "audit.quarantine"):
            con.execute(f"DELETE FROM {table} WHERE file_hash IS NULL AND path = ?", [result.path])
    con.execute(
        """INSERT INTO audit.ingested_files VALUES (?, ?, ?, ?, ?, cw_mask(?), ?, ?, ?, ?, ?)""",
        [
            result.file_hash,
            result.feed,
            result.path,
            result.size_bytes,
            result.status,
            result.error,
            result.rows_read,
            result.rows_loaded,
            result.rows_replayed,
            result.rows_quarantined,
            ingested_at,
        ],
    )


def reject_unread(
    con: duckdb.DuckDBPyConnection, landed: LandedFile, ingested_at: datetime
) -> FileReport:
    """Reject a file for its ``problem`` (found before reading it), in one transaction."""
    assert landed.problem is not None
    result = FileReport(
        feed=landed.feed,
        path=landed.rel_path,
        file_hash=landed.sha256,
        size_bytes=landed.size_bytes,
        status=REJECTED,
        error=landed.problem,
    )
    head = quarantine.file_head(landed.path) if landed.sha256 is not None else ""
    con.execute("BEGIN TRANSACTION")
    try:
        register(con, result, ingested_at)
        quarantine.insert_file(
            con,
            feed=result.feed,
            file_hash=result.file_hash,
            path=result.path,
            reason=landed.problem,
            head=head,
            quarantined_at=ingested_at,
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return result


def upgrade(con: duckdb.DuckDBPyConnection, ingested_files_ddl: str) -> None:
    """Bring an older warehouse's audit tables to this keying: audit.ingested_files had its
    file_hash as PRIMARY KEY and NOT NULL, audit.quarantine its file_hash NOT NULL."""
    keyed = con.execute(
        """SELECT count(*) FROM duckdb_constraints()
           WHERE schema_name = 'audit' AND table_name = 'ingested_files'
             AND constraint_type = 'PRIMARY KEY'"""
    ).fetchone()[0]
    if keyed:
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute("ALTER TABLE audit.ingested_files RENAME TO ingested_files_keyed")
            con.execute(ingested_files_ddl)
            con.execute("INSERT INTO audit.ingested_files SELECT * FROM audit.ingested_files_keyed")
            con.execute("DROP TABLE audit.ingested_files_keyed")
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
    not_null = con.execute(
        """SELECT count(*) FROM duckdb_constraints()
           WHERE schema_name = 'audit' AND table_name = 'quarantine'
             AND constraint_type = 'NOT NULL' AND constraint_column_names = ['file_hash']"""
    ).fetchone()[0]
    if not_null:
        con.execute("ALTER TABLE audit.quarantine ALTER COLUMN file_hash DROP NOT NULL")
