"""audit.quarantine: rows (and whole files) that could not be loaded, with a reason.

``raw_text`` is the record as JSON text (CSV/Parquet rows are turned into a JSON object of their
text values) or, for a whole file, its first bytes; in both, the clear values of the feed's
personal-data fields are replaced and anything that looks like an e-mail address or a phone
number is masked (masking.py).
"""

from __future__ import annotations

import gzip
from datetime import datetime
from pathlib import Path

import duckdb

PII_MASK = "<pii>"
HEAD_BYTES = 500


def insert_rows(
    con: duckdb.DuckDBPyConnection,
    *,
    feed: str,
    file_hash: str,
    path: str,
    quarantined_at: datetime,
    source_sql: str,
    raw_text_sql: str,
) -> None:
    """Insert every quarantined row of ``source_sql`` (a FROM clause whose alias ``t`` has columns
    ``_row_number`` and ``_reason``); ``raw_text_sql`` gives the (unmasked) raw text.

    ``_reason`` is taken as it is: validation masks the values it quotes, knowing their field
    (a Unix-milliseconds timestamp is shown, a phone number in a timestamp field is masked)."""
    con.execute(
        f"""INSERT INTO audit.quarantine
            SELECT ?, ?, ?, t._row_number, t._reason, cw_mask({raw_text_sql}), ?
            FROM {source_sql}
            WHERE t._reason IS NOT NULL
            ORDER BY t._row_number""",
        [feed, file_hash, path, quarantined_at],
    )


def file_head(path: Path, limit: int = HEAD_BYTES) -> str:
    """The first bytes of a file as text (decompressed when possible), for a rejected file."""
    data = b""
    if path.name.endswith(".gz"):
        try:
            with gzip.open(path, "rb") as fh:
                data = fh.read(limit)
        except (OSError, EOFError):
            data = b""
    if not data:
        try:
            with open(path, "rb") as fh:
                data = fh.read(limit)
        except OSError:  # became unreadable since it was hashed: the reason says enough
            return ""
    text = data.decode("utf-8", errors="replace")
    return text.replace("\x00", "\\x00")


def insert_file(
    con: duckdb.DuckDBPyConnection,
    *,
    feed: str,
    file_hash: str | None,
    path: str,
    reason: str,
    head: str,
    quarantined_at: datetime,
) -> None:
    """The single quarantine row of a rejected file (row_number NULL; file_hash NULL when the
    file could not be read)."""
    con.execute(
        "INSERT INTO audit.quarantine VALUES (?, ?, ?, NULL, cw_mask(?), cw_mask(?), ?)",
        [feed, file_hash, path, reason, head, quarantined_at],
    )
