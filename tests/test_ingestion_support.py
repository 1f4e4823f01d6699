"""Helpers for the ingestion tests: write landed files, run the ingestion, query the warehouse.

(A module of helpers, no tests; named like the ingestion tests so it stays with them.)
"""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingestion import FEEDS, IngestReport, IngestSettings, ingest_landing_zone

KEY = "unit-test-pii-key"
SETTINGS = IngestSettings(pii_hash_key=KEY)
# the header of a receipts file, as the feed declares it
RECEIPT_HEADER = list(FEEDS["receipts"].field_names)


def land(
    landing: Path, feed: str, name: str, content: str | bytes, day: str = "2026-11-02"
) -> Path:
    """Write one landed file ``<landing>/<feed>/<day>/<name>``; ``.gz`` names are gzipped."""
    path = landing / feed / day / name
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode() if isinstance(content, str) else content
    if name.endswith(".gz") and not data.startswith(b"\x1f\x8b"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path


def ndjson(records: list[dict | str]) -> str:
    return "".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records)


def json_array(records: list[dict]) -> str:
    return json.dumps(records, indent=1)


def csv_text(header: list[str], rows: list[list[object]]) -> str:
    def cell(v: object) -> str:
        if v is None:
            return ""
        s = str(v)
        return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n') else s

    return "".join(",".join(cell(v) for v in row) + "\n" for row in [header, *rows])


def parquet_bytes(columns: dict[str, list]) -> bytes:
    buf = io.BytesIO()
    pq.write_table(pa.table(columns), buf)
    return buf.getvalue()


def ingest(tmp_path: Path, landing: Path | None = None, **kwargs) -> IngestReport:
    landing = landing or tmp_path / "landing"
    return ingest_landing_zone(
        tmp_path / "warehouse.duckdb", landing, kwargs.pop("settings", SETTINGS), **kwargs
    )


def connect(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True)


def rows(tmp_path: Path, sql: str, params: list | None = None) -> list[tuple]:
    with connect(tmp_path) as con:
        return con.execute(sql, params or []).fetchall()


def dicts(tmp_path: Path, sql: str, params: list | None = None) -> list[dict]:
    with connect(tmp_path) as con:
        cur = con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def file_row(tmp_path: Path, path_suffix: str) -> dict:
    found = dicts(
        tmp_path, "SELECT * FROM audit.ingested_files WHERE path LIKE ?", ["%" + path_suffix]
    )
    assert len(found) == 1, found
    return found[0]


def quarantine(tmp_path: Path, path_suffix: str) -> list[tuple]:
    """(row_number, reason, raw_text) of a file's quarantine rows, in row order."""
    return rows(
        tmp_path,
        "SELECT row_number, reason, raw_text FROM audit.quarantine WHERE path LIKE ? "
        "ORDER BY row_number NULLS FIRST",
        ["%" + path_suffix],
    )


def assert_balanced(tmp_path: Path) -> None:
    broken = rows(
        tmp_path,
        "SELECT path FROM audit.ingested_files "
        "WHERE rows_read <> rows_loaded + rows_replayed + rows_quarantined",
    )
    assert broken == []
    # the registry's quarantine count is the number of quarantined rows of the file
    mismatched = rows(
        tmp_path,
        """SELECT f.path, f.rows_quarantined, count(q.row_number)
           FROM audit.ingested_files f LEFT JOIN audit.quarantine q USING (file_hash, path)
           GROUP BY ALL HAVING f.rows_quarantined <> count(q.row_number)""",
    )
    assert mismatched == []
