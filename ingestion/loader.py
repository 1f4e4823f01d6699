"""Load one landed file: read, validate, find replays, then in ONE transaction insert the raw rows
(and child rows), the quarantine rows and the registry row, so a crash never half-loads a file.

A file that cannot be read, or lacks a required column, is rejected: its registry row (status
``rejected``, the error naming the file) and one quarantine row (row_number NULL, the file's first
bytes masked) are written together, and the run goes on with the next file.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

import duckdb

from . import quarantine, readers, registry, replay, validation
from .discovery import LandedFile
from .feeds import FeedSpec
from .report import LOADED, REJECTED, FileReport
from .schema import RECORD_HASH_COLUMN
from .sqlutil import drop_temp_relations, ident

log = logging.getLogger(__name__)

LOADED_ROWS = "_cw_loaded"


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    landed: LandedFile,
    currency: str,
    ingested_at: datetime,
) -> FileReport:
    started = time.perf_counter()
    result = FileReport(
        feed=spec.name,
        path=landed.rel_path,
        file_hash=landed.sha256,
        size_bytes=landed.size_bytes,
    )
    try:
        try:
            read = readers.read_file(con, spec, landed)
            _check_required_columns(spec, landed, read)
            layout = validation.build_typed(con, spec, currency)
        except readers.UnreadableFileError as exc:
            _reject(con, result, landed, str(exc), ingested_at)
        except (duckdb.BinderException, duckdb.ParserException, duckdb.CatalogException):
            raise  # a bug in the generated SQL, never a property of the file
        except duckdb.Error as exc:
            message = f"{landed.rel_path}: cannot read the file: {_first_line(exc)}"
            _reject(con, result, landed, message, ingested_at)
        else:
            _load(con, spec, result, read, layout, ingested_at)
    finally:
        _cleanup(con)
    result.seconds = time.perf_counter() - started
    log.info(
        "%s %s: %s read=%d loaded=%d replayed=%d quarantined=%d (%.2fs)%s",
        spec.name,
        landed.rel_path,
        result.status,
        result.rows_read,
        result.rows_loaded,
        result.rows_replayed,
        result.rows_quarantined,
        result.seconds,
        f" error: {result.error}" if result.error else "",
    )
    return result


def _check_required_columns(spec: FeedSpec, landed: LandedFile, read: readers.ReadResult) -> None:
    has_columns = read.fmt in ("csv", "parquet") or bool(read.present or read.unknown)
    missing = [f for f in spec.required_fields if f not in read.present]
    if has_columns and missing:
        found = sorted(read.present | set(read.unknown))
        names = ", ".join(missing)
        plural = "s" if len(missing) > 1 else ""
        raise readers.UnreadableFileError(
            f"{landed.rel_path}: required field{plural} {names} missing from the file "
            f"(feed {spec.name}; columns found: {', '.join(found)})"
        )


def _load(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    result: FileReport,
    read: readers.ReadResult,
    layout: validation.TypedLayout,
    ingested_at: datetime,
) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        result.rows_replayed = replay.find_replays(con, spec, layout)
        result.rows_read, result.rows_quarantined = con.execute(
            f"SELECT count(*), count(_reason) FROM {validation.TYPED}"
        ).fetchone()
        result.rows_loaded = result.rows_read - result.rows_quarantined - result.rows_replayed
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW {LOADED_ROWS} AS
            SELECT * FROM {validation.TYPED} t
            WHERE _reason IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM {replay.REPLAYS} r WHERE r._row_number = t._row_number)"""
        )
        _insert_raw(con, spec, layout, result.file_hash, ingested_at)
        if spec.child:
            result.child_rows_loaded = _insert_child(
                con, spec, layout, result.file_hash, ingested_at
            )
        if result.rows_quarantined:
            raw_text = read.raw_text_sql
            for src in layout.pii_sources:  # clear values of PII fields never reach raw_text
                raw_text = (
                    f"CASE WHEN length(t.{src}) >= 3 "
                    f"THEN replace({raw_text}, t.{src}, '{quarantine.PII_MASK}') "
                    f"ELSE {raw_text} END"
                )
            quarantine.insert_rows(
                con,
                feed=spec.name,
                file_hash=result.file_hash,
                path=result.path,
                quarantined_at=ingested_at,
                source_sql=f"{validation.TYPED} t {read.raw_join}",
                raw_text_sql=raw_text,
            )
        result.status = LOADED
        registry.register(con, result, ingested_at)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _insert_raw(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    layout: validation.TypedLayout,
    file_hash: str,
    ingested_at: datetime,
) -> None:
    cols = [c for c, _ in layout.columns] + ["extra"]
    exprs = [t for _, t in layout.columns] + ["extra"]
    if spec.whole_record_key:
        cols.append(RECORD_HASH_COLUMN)
        exprs.append(RECORD_HASH_COLUMN)
    cols += ["_file_hash", "_row_number", "_ingested_at"]
    exprs += ["?", "_row_number", "?"]
    con.execute(
        f"""INSERT INTO raw.{ident(spec.table)} ({", ".join(ident(c) for c in cols)})
        SELECT {", ".join(exprs)} FROM {LOADED_ROWS}""",
        [file_hash, ingested_at],
    )


def _insert_child(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    layout: validation.TypedLayout,
    file_hash: str,
    ingested_at: datetime,
) -> int:
    child = spec.child
    assert child is not None
    parent = dict(layout.columns)
    cols = list(child.parent_columns) + [c for c, _ in layout.child_columns]
    exprs = [f"p.{parent[c]}" for c in child.parent_columns]
    exprs += [f"c.{t}" for _, t in layout.child_columns]
    cols += ["extra", "_file_hash", "_row_number", "_ingested_at"]
    exprs += ["c.extra", "?", "c._row_number", "?"]
    con.execute(
        f"""INSERT INTO raw.{ident(child.table)} ({", ".join(ident(c) for c in cols)})
        SELECT {", ".join(exprs)}
        FROM {validation.CHILD} c JOIN {LOADED_ROWS} p ON p._row_number = c._row_number
        ORDER BY c._row_number, c.pos""",
        [file_hash, ingested_at],
    )
    return con.execute(
        f"SELECT count(*) FROM {validation.CHILD} c "
        f"JOIN {LOADED_ROWS} p ON p._row_number = c._row_number"
    ).fetchone()[0]


def _reject(
    con: duckdb.DuckDBPyConnection,
    result: FileReport,
    landed: LandedFile,
    message: str,
    ingested_at: datetime,
) -> None:
    result.status = REJECTED
    result.error = message
    result.rows_read = result.rows_loaded = result.rows_replayed = result.rows_quarantined = 0
    head = quarantine.file_head(landed.path)
    con.execute("BEGIN TRANSACTION")
    try:
        quarantine.insert_file(
            con,
            feed=result.feed,
            file_hash=result.file_hash,
            path=result.path,
            reason=message,
            head=head,
            quarantined_at=ingested_at,
        )
        registry.register(con, result, ingested_at)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _cleanup(con: duckdb.DuckDBPyConnection) -> None:
    drop_temp_relations(
        con,
        (
            LOADED_ROWS,
            replay.REPLAYS,
            *validation.TEMP_TABLES,
            *readers.TEMP_TABLES,
            "_cw_csv_bad",
            "_cw_csv_shift",
        ),
    )


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
