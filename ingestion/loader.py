"""Load a batch of landed files of one feed: read them together, validate, find replays, then in
ONE transaction insert the raw rows (and child rows), the quarantine rows and the registry rows of
every file of the batch, so a crash never half-loads a file (it rolls the whole batch back:
nothing of it is registered, and the next run loads it again).

A file that cannot be read, or lacks a required column, is rejected on its own: its registry row
(status ``rejected``, the error naming the file) and one quarantine row (row_number NULL, the
file's first bytes masked) are written with the batch, and the other files load.

The work is a handful of statements per batch, whatever the number of files: one reader call per
group of files that read alike (readers.py), one typed projection (validation.py), one replay
anti-join (replay.py), one INSERT per raw table, one for the quarantine.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
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
BAD_ROWS = "_cw_bad"
FILE_SHIFT = readers.FILE_SHIFT
ORDINAL = f"(_row_number // {FILE_SHIFT})"  # the file of a stage/typed row (batch ordinal)
RECORD = f"(_row_number % {FILE_SHIFT})"  # its record number in the file


class StageTimer:
    """Seconds per (feed, stage) of one run: the profile of benchmarks/profile_ingest.py."""

    def __init__(self) -> None:
        self.seconds: dict[tuple[str, str], float] = defaultdict(float)
        self._last = time.perf_counter()

    def lap(self, feed: str, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[(feed, stage)] += now - self._last
        self._last = now


def ingest_batch(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    files: list[LandedFile],
    currency: str,
    ingested_at: datetime,
    timer: StageTimer | None = None,
) -> list[FileReport]:
    """Load ``files`` (new files of ``spec``, in path order); one FileReport per file."""
    timer = timer or StageTimer()
    started = time.perf_counter()
    results = [
        FileReport(feed=spec.name, path=lf.rel_path, file_hash=lf.sha256, size_bytes=lf.size_bytes)
        for lf in files
    ]
    try:
        batch = readers.read_batch(con, spec, list(enumerate(files)))
        for ordinal, staged in batch.staged.items():
            missing = _missing_required_columns(spec, staged)
            if missing:
                batch.rejected[ordinal] = missing
        readers.finish_stage(con, spec, batch)
        timer.lap(spec.name, "read")
        layout = validation.build_typed(con, spec, currency, rescan=not batch.stage_reparses)
        timer.lap(spec.name, "validate")
        _load(con, spec, files, results, batch, layout, ingested_at, timer)
    finally:
        _cleanup(con)
    seconds = time.perf_counter() - started
    total_bytes = sum(lf.size_bytes for lf in files) or 1
    for landed, result in zip(files, results, strict=True):
        result.seconds = seconds * landed.size_bytes / total_bytes  # the batch's, by size
        log.info(
            "%s %s: %s read=%d loaded=%d replayed=%d quarantined=%d%s",
            spec.name,
            result.path,
            result.status,
            result.rows_read,
            result.rows_loaded,
            result.rows_replayed,
            result.rows_quarantined,
            f" error: {result.error}" if result.error else "",
        )
    return results


def _missing_required_columns(spec: FeedSpec, staged: readers.StagedFile) -> str | None:
    has_columns = staged.fmt in ("csv", "parquet") or bool(staged.present or staged.unknown)
    missing = [f for f in spec.required_fields if f not in staged.present]
    if not (has_columns and missing):
        return None
    found = sorted(staged.present | set(staged.unknown))
    plural = "s" if len(missing) > 1 else ""
    return (
        f"{staged.landed.rel_path}: required field{plural} {', '.join(missing)} missing from the "
        f"file (feed {spec.name}; columns found: {', '.join(found)})"
    )


def _load(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    files: list[LandedFile],
    results: list[FileReport],
    batch: readers.BatchRead,
    layout: validation.TypedLayout,
    ingested_at: datetime,
    timer: StageTimer,
) -> None:
    hashes = [lf.sha256 for lf in files]
    paths = [lf.rel_path for lf in files]
    heads = {o: quarantine.file_head(files[o].path) for o in batch.rejected}
    con.execute("BEGIN TRANSACTION")
    try:
        replay.find_replays(con, spec, layout)
        timer.lap(spec.name, "replay")
        counts = con.execute(
            f"""SELECT {ORDINAL}, count(*), count(_reason) FROM {validation.TYPED} GROUP BY 1"""
        ).fetchall()
        replayed = dict(
            con.execute(f"SELECT {ORDINAL}, count(*) FROM {replay.REPLAYS} GROUP BY 1").fetchall()
        )
        for ordinal, read, quarantined in counts:
            result = results[ordinal]
            result.rows_read, result.rows_quarantined = read, quarantined
            result.rows_replayed = replayed.get(ordinal, 0)
            result.rows_loaded = read - quarantined - result.rows_replayed
        con.execute(
            f"""CREATE OR REPLACE TEMP VIEW {LOADED_ROWS} AS
            SELECT * FROM {validation.TYPED} t
            WHERE _reason IS NULL
              AND NOT EXISTS (
                  SELECT 1 FROM {replay.REPLAYS} r WHERE r._row_number = t._row_number)"""
        )
        _insert_raw(con, spec, layout, hashes, ingested_at)
        if spec.child:
            for ordinal, n in _insert_child(con, spec, layout, hashes, ingested_at):
                results[ordinal].child_rows_loaded = n
        timer.lap(spec.name, "insert")
        if any(r.rows_quarantined for r in results):
            _insert_quarantine(con, spec, batch, layout, hashes, paths, ingested_at)
        for ordinal, message in sorted(batch.rejected.items()):
            result = results[ordinal]
            result.status, result.error = REJECTED, message
            result.rows_read = result.rows_loaded = result.rows_replayed = 0
            result.rows_quarantined = result.child_rows_loaded = 0
            quarantine.insert_file(
                con,
                feed=spec.name,
                file_hash=result.file_hash,
                path=result.path,
                reason=message,
                head=heads[ordinal],
                quarantined_at=ingested_at,
            )
        for result in results:
            if result.status != REJECTED:
                result.status = LOADED
            registry.register(con, result, ingested_at)
        timer.lap(spec.name, "quarantine+register")
        con.execute("COMMIT")
        timer.lap(spec.name, "commit")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def _insert_raw(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    layout: validation.TypedLayout,
    hashes: list[str],
    ingested_at: datetime,
) -> None:
    cols = [c for c, _ in layout.columns] + ["extra"]
    exprs = [t for _, t in layout.columns] + ["extra"]
    if spec.whole_record_key:
        cols.append(RECORD_HASH_COLUMN)
        exprs.append(RECORD_HASH_COLUMN)
    cols += ["_file_hash", "_row_number", "_ingested_at"]
    exprs += [f"list_extract($hashes, {ORDINAL}::INTEGER + 1)", RECORD, "$at"]
    con.execute(
        f"""INSERT INTO raw.{ident(spec.table)} ({", ".join(ident(c) for c in cols)})
        SELECT {", ".join(exprs)} FROM {LOADED_ROWS}""",
        {"hashes": hashes, "at": ingested_at},
    )


def _insert_child(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    layout: validation.TypedLayout,
    hashes: list[str],
    ingested_at: datetime,
) -> list[tuple[int, int]]:
    """Insert the child rows of the loaded rows; (ordinal, child rows) per file."""
    child = spec.child
    assert child is not None
    parent = dict(layout.columns)
    cols = list(child.parent_columns) + [c for c, _ in layout.child_columns]
    exprs = [f"p.{parent[c]}" for c in child.parent_columns]
    exprs += [f"c.{t}" for _, t in layout.child_columns]
    cols += ["extra", "_file_hash", "_row_number", "_ingested_at"]
    exprs += [
        "c.extra",
        f"list_extract($hashes, (c._row_number // {FILE_SHIFT})::INTEGER + 1)",
        f"c._row_number % {FILE_SHIFT}",
        "$at",
    ]
    con.execute(
        f"""INSERT INTO raw.{ident(child.table)} ({", ".join(ident(c) for c in cols)})
        SELECT {", ".join(exprs)}
        FROM {validation.CHILD} c JOIN {LOADED_ROWS} p ON p._row_number = c._row_number
        ORDER BY c._row_number, c.pos""",
        {"hashes": hashes, "at": ingested_at},
    )
    return con.execute(
        f"SELECT c._row_number // {FILE_SHIFT}, count(*) FROM {validation.CHILD} c "
        f"JOIN {LOADED_ROWS} p ON p._row_number = c._row_number GROUP BY 1"
    ).fetchall()


def _insert_quarantine(
    con: duckdb.DuckDBPyConnection,
    spec: FeedSpec,
    batch: readers.BatchRead,
    layout: validation.TypedLayout,
    hashes: list[str],
    paths: list[str],
    ingested_at: datetime,
) -> None:
    """The quarantined rows with their raw text, rebuilt from the source tables (no re-read)."""
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE {BAD_ROWS} AS "
        f"SELECT * FROM {validation.TYPED} WHERE _reason IS NOT NULL"
    )
    sources = [
        f"""SELECT t._row_number, {g.raw_text_sql} AS _raw_text FROM {BAD_ROWS} t
            JOIN {g.src} src ON src.rowid = t._src_rowid - {g.index * readers.GROUP_SHIFT}
            WHERE t._src_rowid // {readers.GROUP_SHIFT} = {g.index}"""
        for g in batch.groups
        if g.files
    ]
    raw_text = "coalesce(t._raw, r._raw_text)"
    for src in layout.pii_sources:  # clear values of PII fields never reach raw_text
        raw_text = (
            f"CASE WHEN length(t.{src}) >= 3 "
            f"THEN replace({raw_text}, t.{src}, '{quarantine.PII_MASK}') "
            f"ELSE {raw_text} END"
        )
    joined = (
        f"LEFT JOIN ({' UNION ALL '.join(sources)}) r ON r._row_number = t._row_number"
        if sources
        else "LEFT JOIN (SELECT NULL::BIGINT AS _row_number, NULL AS _raw_text) r ON false"
    )
    con.execute(
        f"""INSERT INTO audit.quarantine
            SELECT $feed, list_extract($hashes, (t._row_number // {FILE_SHIFT})::INTEGER + 1),
                   list_extract($paths, (t._row_number // {FILE_SHIFT})::INTEGER + 1),
                   t._row_number % {FILE_SHIFT}, t._reason, cw_mask({raw_text}), $at
            FROM {BAD_ROWS} t {joined}
            ORDER BY t._row_number""",
        {"feed": spec.name, "hashes": hashes, "paths": paths, "at": ingested_at},
    )


def _cleanup(con: duckdb.DuckDBPyConnection) -> None:
    """Drop every temp relation of the batch (views first: they depend on the tables)."""
    drop_temp_relations(con, [LOADED_ROWS, readers.STAGE])
    drop_temp_relations(con, prefix="_cw_")
