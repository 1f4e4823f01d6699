"""audit.ingested_files: one row per landed file (by content hash) with its accounting.

Invariant (also a CHECK constraint): rows_read = rows_loaded + rows_replayed + rows_quarantined.
A rejected file (unreadable, or lacking a required column) has all counts 0, its error in
``error`` and one audit.quarantine row with a null row_number.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

from .report import FileReport


def known_hashes(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {h for (h,) in con.execute("SELECT file_hash FROM audit.ingested_files").fetchall()}


def register(con: duckdb.DuckDBPyConnection, result: FileReport, ingested_at: datetime) -> None:
    """Insert the registry row of one processed file (inside the file's transaction)."""
    if result.status not in ("loaded", "rejected"):
        raise ValueError(f"cannot register a file with status {result.status!r}")
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
