"""Write-audit-publish: copy the marts into a new reports file and swap it in with one rename.

BI tools open `reports.duckdb`. A new publication is written beside it (`.reports-<version>.tmp`)
and moved into place with `os.replace`, which is atomic on POSIX: a reader holding the old file
keeps a consistent old version, the next connection sees the whole new one, and a crash at any
moment leaves the previous publication intact. The CSV/Parquet exports are staged the same way
(`exports/.<version>.tmp/`, renamed to `exports/<version>/`). Whatever a killed publication left
behind is removed by the next one (unless a live process still holds its DuckDB lock).

A reader holding the old `reports.duckdb` open (DuckDB `read_only`) does not block the rename:
DuckDB's lock is an advisory lock on the open file, which `os.replace` neither needs nor touches.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

MARTS_SCHEMA = "marts"

PUBLICATIONS_DDL = """
create table if not exists {table} (
    version varchar not null,
    run_id varchar,
    recorded_at timestamp not null,
    status varchar not null,          -- 'published' | 'refused'
    reason varchar,                   -- why a publication was refused
    row_counts varchar,               -- JSON object: mart -> rows
    checks varchar                    -- JSON array: check, severity, blocking, passed, ...
)
"""


@dataclass
class PublicationRecord:
    version: str
    run_id: str | None
    status: str
    reason: str | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    checks: list[dict] = field(default_factory=list)
    recorded_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(tzinfo=None))

    def as_row(self) -> tuple:
        return (
            self.version,
            self.run_id,
            self.recorded_at,
            self.status,
            self.reason,
            json.dumps(self.row_counts, sort_keys=True),
            json.dumps(self.checks, sort_keys=True, default=str),
        )


def new_version(run_id: str | None) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{stamp}-{(run_id or 'manual')[:8]}"


def list_marts(conn: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    """The tables of the `marts` schema in the attached `database`."""
    rows = conn.execute(
        "select table_name from duckdb_tables() "
        "where database_name = ? and schema_name = ? order by table_name",
        [database, MARTS_SCHEMA],
    ).fetchall()
    return [name for (name,) in rows]


def record_publication(warehouse: duckdb.DuckDBPyConnection, record: PublicationRecord) -> None:
    """Append a publication (or a refusal) to the warehouse's audit.publications."""
    warehouse.execute("create schema if not exists audit")
    warehouse.execute(PUBLICATIONS_DDL.format(table="audit.publications"))
    warehouse.execute(
        "insert into audit.publications values (?, ?, ?, ?, ?, ?, ?)", list(record.as_row())
    )


def _export(conn: duckdb.DuckDBPyConnection, marts: list[str], export_dir: Path) -> None:
    export_dir.mkdir(parents=True, exist_ok=True)
    for mart in marts:
        target = (export_dir / f"{mart}.parquet").as_posix().replace("'", "''")
        conn.execute(f"copy main.{mart} to '{target}' (format parquet)")
        csv_target = (export_dir / f"{mart}.csv").as_posix().replace("'", "''")
        conn.execute(f"copy main.{mart} to '{csv_target}' (format csv, header)")


def _held_by_writer(path: Path) -> bool:
    """Whether a live DuckDB process is writing `path` (it holds the file's lock)."""
    try:
        duckdb.connect(str(path), read_only=True).close()
    except duckdb.Error as error:
        return "could not set lock" in str(error).lower()
    return False


def _remove_stale(reports_path: Path, exports_dir: Path) -> None:
    """Remove what killed publications left behind: temp reports files, WALs, staged exports."""
    prefix = f".{reports_path.stem}-"
    for stale in reports_path.parent.glob(f"{prefix}*.tmp"):
        if _held_by_writer(stale):
            continue  # another publication in progress
        stale.with_name(stale.name + ".wal").unlink(missing_ok=True)
        stale.unlink(missing_ok=True)
        version = stale.name.removeprefix(prefix).removesuffix(".tmp")
        shutil.rmtree(exports_dir / f".{version}.tmp", ignore_errors=True)


def publish_marts(
    warehouse_path: Path,
    reports_path: Path,
    exports_dir: Path,
    record: PublicationRecord,
) -> PublicationRecord:
    """Publish every table of the warehouse's `marts` schema atomically; return the record."""
    reports_path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(reports_path, exports_dir)
    tmp_path = reports_path.with_name(f".{reports_path.stem}-{record.version}.tmp")
    staged_exports = exports_dir / f".{record.version}.tmp"

    with duckdb.connect(str(tmp_path)) as conn:
        escaped = str(warehouse_path).replace("'", "''")
        conn.execute(f"attach '{escaped}' as warehouse (read_only)")
        marts = list_marts(conn, "warehouse")
        for mart in marts:
            conn.execute(
                f"create table main.{mart} as select * from warehouse.{MARTS_SCHEMA}.{mart}"
            )
            (record.row_counts[mart],) = conn.execute(
                f"select count(*) from main.{mart}"
            ).fetchone()
        conn.execute(PUBLICATIONS_DDL.format(table="main.publications"))
        (has_history,) = conn.execute(
            "select count(*) from duckdb_tables() where database_name = 'warehouse' "
            "and schema_name = 'audit' and table_name = 'publications'"
        ).fetchone()
        if has_history:
            conn.execute("insert into main.publications select * from warehouse.audit.publications")
        conn.execute(
            "insert into main.publications values (?, ?, ?, ?, ?, ?, ?)", list(record.as_row())
        )
        _export(conn, marts, staged_exports)
        conn.execute("detach warehouse")
        conn.execute("checkpoint")

    _fsync(tmp_path)
    os.replace(staged_exports, exports_dir / record.version)
    os.replace(tmp_path, reports_path)
    _fsync(reports_path.parent)
    return record


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
