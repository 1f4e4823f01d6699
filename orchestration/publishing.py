"""Write the publication: the marts file, its exports, PostgreSQL, the publications log, refusals.

Whether to publish is decided in orchestration/publication_gate.py; this module writes what was
decided, and only here: `publish` (a publication), `refuse` (a refusal), and `conclude_run`, the
record of a run whose publish step never ran (an upstream step failed), with the CLI's exit code.

BI tools open `reports.duckdb`. A new publication is written beside it (`.reports-<version>.tmp`)
and moved into place with `os.replace`, which is atomic on POSIX: a reader holding the old file
keeps a consistent old version, the next connection sees the whole new one, and a crash at any
moment leaves the previous publication intact. The CSV/Parquet exports are staged the same way
(`exports/.<version>.tmp/`, renamed to `exports/<version>/`). Whatever a killed publication left
behind is removed by the next one (unless a live process still holds its DuckDB lock). With
`CW_PUBLISH_POSTGRES_URL` set, the staged file also goes to PostgreSQL before the swap
(orchestration/publish_postgres.py): when that fails, nothing is published anywhere.

A reader holding the old `reports.duckdb` open (DuckDB `read_only`) does not block the rename:
DuckDB's lock is an advisory lock on the open file, which `os.replace` neither needs nor touches.

The published file documents itself (reports.md, "Publication"): every table and column carries
its dbt description as a `COMMENT`, each mart its grain as a `PRIMARY KEY` and the contract's
`NOT NULL`s (orchestration/mart_docs.py reads them from the dbt manifest). A refused build is
recorded in the same file's `publications` the same way: a copy of the published file whose only
change is the log, swapped in with one rename, so the marts stay the previous version's. Every
publication and refusal is also a row of the warehouse's `audit.publications`.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import duckdb

from data_checks.outcome import CheckOutcome
from orchestration.mart_docs import PUBLICATIONS_DOC, TableDoc, load_mart_docs
from orchestration.publication_gate import GateDecision, decide_for_run, refusal_reason
from orchestration.publish_postgres import PostgresPublicationError, postgres_mirror
from orchestration.settings import Settings, connect_duckdb
from orchestration.step_failures import describe_failed_steps
from orchestration.storage_faults import fault_from_exception, fault_from_texts
from orchestration.warehouse_lock import connect_warehouse

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


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def constraint_statements(table: str, columns: list[str], doc: TableDoc) -> list[str]:
    """The contract's NOT NULLs and the grain as PRIMARY KEY, added to a filled `table`."""
    statements = [
        f"alter table {table} alter column {quote(name)} set not null"
        for name in columns
        if doc.column(name).not_null
    ]
    if doc.primary_key:
        key = ", ".join(quote(c) for c in doc.primary_key)
        statements.append(f"alter table {table} add primary key ({key})")
    return statements


def comment_statements(table: str, columns: list[str], doc: TableDoc) -> list[str]:
    """COMMENT ON the table and each of its columns (their dbt descriptions)."""
    statements = [f"comment on table {table} is {literal(doc.description)}"]
    for name in columns:
        statements.append(
            f"comment on column {table}.{quote(name)} is {literal(doc.column(name).description)}"
        )
    return statements


def _column_names(
    conn: duckdb.DuckDBPyConnection, database: str | None, schema: str, table: str
) -> list[str]:
    """The table's column names in order; `database` None is the connection's own file."""
    rows = conn.execute(
        "select column_name from duckdb_columns() "
        "where database_name = coalesce(?, current_database()) and schema_name = ? "
        "and table_name = ? order by column_index",
        [database, schema, table],
    ).fetchall()
    return [name for (name,) in rows]


def _copy_mart(conn: duckdb.DuckDBPyConnection, mart: str, doc: TableDoc) -> int:
    """Create `main.<mart>` with the warehouse's rows, then its keys and comments.

    The rows go in first and the keys after: DuckDB builds a primary key's index over a filled
    table in one pass, where a table created with its key checks and indexes row by row as the
    rows arrive (scale 100's mart_mailing_recipients, 12.9 M rows: 26 s that way, 18 s this way).
    The rows are the warehouse's, whose build enforced the same contract.
    """
    columns = _column_names(conn, "warehouse", MARTS_SCHEMA, mart)
    table = f"main.{quote(mart)}"
    conn.execute(f"create table {table} as select * from warehouse.{MARTS_SCHEMA}.{quote(mart)}")
    for statement in constraint_statements(table, columns, doc) + comment_statements(
        table, columns, doc
    ):
        conn.execute(statement)
    (rows,) = conn.execute(f"select count(*) from {table}").fetchone()
    return rows


def _write_publications(conn: duckdb.DuckDBPyConnection, record: PublicationRecord) -> None:
    """(Re)create `main.publications`: the warehouse's log, then `record`, with its comments."""
    conn.execute("drop table if exists main.publications")
    conn.execute(PUBLICATIONS_DDL.format(table="main.publications"))
    (has_history,) = conn.execute(
        "select count(*) from duckdb_tables() where database_name = 'warehouse' "
        "and schema_name = 'audit' and table_name = 'publications'"
    ).fetchone()
    if has_history:
        conn.execute(
            "insert into main.publications select * from warehouse.audit.publications "
            "where version <> ?",
            [record.version],
        )
    conn.execute(
        "insert into main.publications values (?, ?, ?, ?, ?, ?, ?)", list(record.as_row())
    )
    columns = _column_names(conn, None, "main", "publications")
    for statement in comment_statements("main.publications", columns, PUBLICATIONS_DOC):
        conn.execute(statement)


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
        connect_duckdb(path, read_only=True).close()
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
    docs: dict[str, TableDoc] | None = None,
    mirror: Callable[[Path], object] | None = None,
) -> PublicationRecord:
    """Publish every table of the warehouse's `marts` schema atomically; return the record.

    `docs` (default: read from the dbt manifest) gives each mart its comments and keys. `mirror`
    (the PostgreSQL publication) gets the complete staged file before it is swapped in: when it
    fails, nothing is published anywhere.
    """
    docs = load_mart_docs() if docs is None else docs
    reports_path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(reports_path, exports_dir)
    tmp_path = reports_path.with_name(f".{reports_path.stem}-{record.version}.tmp")
    staged_exports = exports_dir / f".{record.version}.tmp"

    with connect_duckdb(tmp_path) as conn:
        escaped = str(warehouse_path).replace("'", "''")
        conn.execute(f"attach '{escaped}' as warehouse (read_only)")
        marts = list_marts(conn, "warehouse")
        for mart in marts:
            doc = docs.get(mart) or TableDoc(mart, "")
            record.row_counts[mart] = _copy_mart(conn, mart, doc)
        _write_publications(conn, record)
        _export(conn, marts, staged_exports)
        conn.execute("detach warehouse")
        conn.execute("checkpoint")

    _fsync(tmp_path)
    if mirror is not None:
        mirror(tmp_path)
    os.replace(staged_exports, exports_dir / record.version)
    os.replace(tmp_path, reports_path)
    _fsync(reports_path.parent)
    return record


def publish_refusal(
    warehouse_path: Path,
    reports_path: Path,
    record: PublicationRecord,
    mirror: Callable[[Path], object] | None = None,
) -> PublicationRecord:
    """Record a refused build in the published file's `publications`, atomically.

    The new file is a byte copy of the published one with only `publications` rewritten (the
    warehouse's log and `record`), swapped in with one rename: the marts stay exactly the previous
    version's, and a reader sees the old file or the new one. Without a published file yet, the
    new one holds only `publications`, so BI can still say why there is nothing to show.
    `mirror` (the PostgreSQL publication) then gets the same file.
    """
    reports_path.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale(reports_path, reports_path.parent / "exports")
    tmp_path = reports_path.with_name(f".{reports_path.stem}-{record.version}.tmp")
    if reports_path.exists():
        shutil.copyfile(reports_path, tmp_path)
    with connect_duckdb(tmp_path) as conn:
        escaped = str(warehouse_path).replace("'", "''")
        conn.execute(f"attach '{escaped}' as warehouse (read_only)")
        _write_publications(conn, record)
        conn.execute("detach warehouse")
        conn.execute("checkpoint")
    _fsync(tmp_path)
    os.replace(tmp_path, reports_path)
    _fsync(reports_path.parent)
    if mirror is not None:
        mirror(reports_path)
    return record


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the acts, as the publish step and the CLI call them ----------------------------------------


def _postgres_mirror(settings: Settings) -> Callable[[Path], object] | None:
    return postgres_mirror(settings.publish_postgres_url, list(settings.publish_postgres_readers))


def _connect(settings: Settings) -> duckdb.DuckDBPyConnection:
    settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    return connect_warehouse(settings.warehouse_path)


def record_for(run_id: str, decision: GateDecision) -> PublicationRecord:
    """The publications row of the gate's `decision` on `run_id`: published, or refused and why."""
    return PublicationRecord(
        version=new_version(run_id),
        run_id=run_id,
        status="published" if decision.passed else "refused",
        reason=None if decision.passed else decision.summary(),
        checks=[outcome.as_dict() for outcome in decision.outcomes],
    )


def publish(
    settings: Settings, record: PublicationRecord, docs: dict[str, TableDoc]
) -> PublicationRecord:
    """Publish the warehouse's marts (file, exports, PostgreSQL), then log it in the warehouse."""
    publish_marts(
        settings.warehouse_path,
        settings.reports_path,
        settings.exports_dir,
        record,
        docs,
        _postgres_mirror(settings),
    )
    with _connect(settings) as conn:
        record_publication(conn, record)
    return record


def refuse(settings: Settings, record: PublicationRecord) -> PublicationRecord:
    """Log a refusal in the warehouse, then in the published file (and PostgreSQL)."""
    with _connect(settings) as conn:
        record_publication(conn, record)
    return publish_refusal(
        settings.warehouse_path, settings.reports_path, record, _postgres_mirror(settings)
    )


def recorded_publication(settings: Settings, run_id: str) -> dict | None:
    """The latest publications row of `run_id` in the warehouse, as a dict; None without one."""
    if not settings.warehouse_path.exists():
        return None
    with connect_warehouse(settings.warehouse_path) as conn:
        exists = conn.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'audit' and table_name = 'publications'"
        ).fetchone()[0]
        if not exists:
            return None
        row = conn.execute(
            "select version, status, reason, row_counts, checks from audit.publications "
            "where run_id = ? order by recorded_at desc limit 1",
            [run_id],
        ).fetchone()
    if row is None:
        return None
    version, status, reason, row_counts, checks = row
    return {
        "run_id": run_id,
        "version": version,
        "status": status,
        "reason": reason,
        "row_counts": json.loads(row_counts or "{}"),
        "checks": json.loads(checks or "[]"),
    }


def conclude_run(
    instance: dg.DagsterInstance, run_id: str, settings: Settings, defs: dg.Definitions
) -> tuple[int, dict]:
    """Exit code and publication record of `run_id`; record a refusal if the run left none.

    Raises WarehouseStorageError (with the operator's guidance) when a step failed on a damaged
    warehouse or a full disk: then the warehouse may not even take the refusal's record.
    """
    step_failures, error_texts = describe_failed_steps(instance, run_id)
    fault = fault_from_texts(error_texts, settings)
    if fault is not None:
        raise fault
    try:
        publication = recorded_publication(settings, run_id)
    except Exception as error:
        raise fault_from_exception(error, settings) or error from error
    if publication is None:
        # The publish step never ran (an upstream step failed, or Dagster skipped it): the run
        # did not publish, and the refusal is recorded with everything that went wrong.
        decision = decide_for_run(instance, run_id, defs.resolve_asset_graph())
        record = PublicationRecord(
            version=new_version(run_id),
            run_id=run_id,
            status="refused",
            reason=refusal_reason(decision, step_failures)
            if step_failures + decision.failures
            else "the publish step did not run",
            checks=[outcome.as_dict() for outcome in decision.outcomes],
        )
        try:
            refuse(settings, record)
        except PostgresPublicationError as error:  # recorded in reports.duckdb; say so, loudly
            step_failures.append(str(error))
        except Exception as error:
            raise fault_from_exception(error, settings) or error from error
        publication = recorded_publication(settings, run_id) or {}
    publication["path"] = str(settings.reports_path)
    publication["failures"] = step_failures + [
        CheckOutcome(**check).failure()
        for check in publication.get("checks", [])
        if check.get("blocking") and not check.get("passed")
    ]
    code = 0 if publication.get("status") == "published" else 1
    return code, publication
