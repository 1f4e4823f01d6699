"""``ingest_landing_zone``: every new landed file of the selected feeds into the warehouse."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from . import (
    discovery,
    hashing,
    loader,
    masking,
    registry,
    schema,
    timestamps,
    trimming,
    validation,
)
from .feeds import FEEDS
from .report import SKIPPED_KNOWN, FileReport, IngestReport

log = logging.getLogger(__name__)


DEFAULT_BATCH_BYTES = 256 * 1024 * 1024
GZIP_RATIO = 4  # a gzipped file weighs this many times its size in a batch


@dataclass(frozen=True)
class IngestSettings:
    pii_hash_key: str = field(repr=False)  # the secret of the keyed PII hash
    currency: str = "RUB"  # the installation currency; rows in others are quarantined
    # DuckDB's memory_limit (e.g. "4GB") and threads for the ingestion's connection; None: DuckDB's
    # defaults (80% of RAM, one thread per core). Set from CW_DUCKDB_MEMORY_LIMIT/CW_DUCKDB_THREADS.
    duckdb_memory_limit: str | None = None
    duckdb_threads: int | None = None
    # Files of a feed are loaded in batches of about this many bytes (gzip counted as unpacked):
    # one transaction per batch; what a batch holds in memory at once.
    batch_bytes: int = DEFAULT_BATCH_BYTES

    def __post_init__(self) -> None:
        if not self.pii_hash_key:
            raise ValueError("pii_hash_key must not be empty")
        if not self.currency or not self.currency.strip():
            raise ValueError("currency must not be empty")
        if self.duckdb_threads is not None and self.duckdb_threads < 1:
            raise ValueError("duckdb_threads must be at least 1")
        if self.batch_bytes < 1:
            raise ValueError("batch_bytes must be positive")

    def duckdb_config(self) -> dict[str, str]:
        """The DuckDB configuration of every connection the ingestion opens."""
        config = {}
        if self.duckdb_memory_limit:
            config["memory_limit"] = self.duckdb_memory_limit
        if self.duckdb_threads:
            config["threads"] = str(self.duckdb_threads)
        return config


def prepare_connection(con: duckdb.DuckDBPyConnection, settings: IngestSettings) -> None:
    """Session settings and TEMP macros (the key material lives only in this connection)."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET enable_progress_bar = false")  # long batch statements: no bar on stderr
    trimming.install(con)  # first: the other macros use it
    masking.install(con)
    hashing.install(con, settings.pii_hash_key)
    timestamps.install(con)
    validation.install(con)


def _select_feeds(feeds: Iterable[str] | None) -> list[str]:
    if feeds is None:
        return list(FEEDS)
    selected = list(dict.fromkeys(feeds))
    unknown = [f for f in selected if f not in FEEDS]
    if unknown:
        raise ValueError(f"unknown feed(s) {unknown}; known: {sorted(FEEDS)}")
    return [f for f in FEEDS if f in selected]  # registry order


def ingest_landing_zone(
    warehouse_path: Path,
    landing_dir: Path,
    settings: IngestSettings,
    feeds: list[str] | None = None,
    workers: int | None = None,
) -> IngestReport:
    """Load every file of ``feeds`` (default: all) in ``landing_dir`` whose bytes are new.

    Creates the raw and audit tables if needed (for all feeds). Known files (registry.py: a loaded
    file's bytes under any path, a rejected file's bytes under the same path) are reported as
    ``skipped_known``; a file whose problem is known before reading it (unknown feed, unreadable,
    wrong type, empty) is rejected at once; the other files of a feed are loaded (or rejected one
    by one) in batches of about ``settings.batch_bytes``, one transaction per batch. Feeds load
    in parallel (``workers`` connections, default: up to 4 by CPU count); the batches of one feed
    load one after the other, in path order, so replays within a feed are always seen.
    """
    started = time.perf_counter()
    selected = _select_feeds(feeds)
    report = IngestReport(feeds=selected)
    landing_dir = Path(landing_dir)
    warehouse_path = Path(warehouse_path)
    warehouse_path.parent.mkdir(parents=True, exist_ok=True)
    if not landing_dir.is_dir():
        log.warning("landing dir %s does not exist: nothing to ingest", landing_dir)
    report.unknown_folders = discovery.unknown_folders(landing_dir)
    for folder in report.unknown_folders:
        log.warning("landing folder %r names no feed: its files are rejected", folder)
    ingested_at = datetime.now(UTC).replace(tzinfo=None)

    con = duckdb.connect(str(warehouse_path), config=settings.duckdb_config())
    timer = loader.StageTimer()
    try:
        prepare_connection(con, settings)
        schema.ensure_schema(con)
        known = registry.KnownFiles.load(con)
        todo: dict[str, list[tuple[int, discovery.LandedFile]]] = {}
        results: dict[int, FileReport] = {}
        every_feed = len(selected) == len(FEEDS)  # only then are other folders accounted for
        landed_files = discovery.discover(landing_dir, selected, include_unknown=every_feed)
        timer.lap("*", "discover+hash")
        for i, landed in enumerate(landed_files):
            if known.has(landed):  # registered before, or seen earlier in this run
                results[i] = FileReport(
                    feed=landed.feed,
                    path=landed.rel_path,
                    file_hash=landed.sha256,
                    size_bytes=landed.size_bytes,
                    status=SKIPPED_KNOWN,
                )
            elif landed.problem:  # unknown feed, unreadable, wrong type, empty: not read
                results[i] = registry.reject_unread(con, landed, ingested_at)
            else:
                known.claim(landed)
                todo.setdefault(landed.feed, []).append((i, landed))
        results.update(_load_feeds(con, settings, todo, ingested_at, workers, timer))
        report.files = [results[i] for i in sorted(results)]
        timer.lap("*", "load")
        con.execute("CHECKPOINT")
        timer.lap("*", "checkpoint")
    finally:
        con.close()
    report.seconds = time.perf_counter() - started
    report.stage_seconds = dict(timer.seconds)
    totals = report.totals()
    log.info(
        "ingested %d new file(s) (%d rejected, %d known) in %.1fs: %d rows read, %d loaded, "
        "%d replayed, %d quarantined",
        totals["files_loaded"] + totals["files_rejected"],
        totals["files_rejected"],
        totals["files_skipped_known"],
        report.seconds,
        totals["rows_read"],
        totals["rows_loaded"],
        totals["rows_replayed"],
        totals["rows_quarantined"],
    )
    stages = {f"{feed}/{stage}": round(s, 3) for (feed, stage), s in report.stage_seconds.items()}
    log.info("stage seconds: %s", json.dumps(stages))  # benchmarks/profile_run.py reads it
    return report


def batches(files: list[tuple[int, discovery.LandedFile]], batch_bytes: int):
    """Consecutive runs of ``files`` (path order kept) of about ``batch_bytes`` each."""
    batch: list[tuple[int, discovery.LandedFile]] = []
    size = 0
    for item in files:
        landed = item[1]
        weight = landed.size_bytes * (GZIP_RATIO if landed.path.name.endswith(".gz") else 1)
        if batch and size + weight > batch_bytes:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += weight
    if batch:
        yield batch


def _load_feeds(
    con: duckdb.DuckDBPyConnection,
    settings: IngestSettings,
    todo: dict[str, list[tuple[int, discovery.LandedFile]]],
    ingested_at: datetime,
    workers: int | None,
    timer: loader.StageTimer,
) -> dict[int, FileReport]:
    """Load the new files, one worker connection per feed at a time."""
    workers = max(1, min(workers or min(4, os.cpu_count() or 1), len(todo) or 1))
    feeds = sorted(todo, key=lambda f: -sum(lf.size_bytes for _, lf in todo[f]))  # big first
    results: dict[int, FileReport] = {}
    failed = threading.Event()

    def load_feed(feed: str) -> dict[int, FileReport]:
        out: dict[int, FileReport] = {}
        cur = con.cursor()  # its own connection: own transactions and temp tables
        feed_timer = loader.StageTimer()
        try:
            prepare_connection(cur, settings)
            for batch in batches(todo[feed], settings.batch_bytes):
                if failed.is_set():
                    break
                reports = loader.ingest_batch(
                    cur,
                    FEEDS[feed],
                    [lf for _, lf in batch],
                    settings.currency,
                    ingested_at,
                    feed_timer,
                )
                out.update({i: r for (i, _), r in zip(batch, reports, strict=True)})
        except BaseException:
            failed.set()
            raise
        finally:
            cur.close()
            for key, seconds in feed_timer.seconds.items():
                timer.seconds[key] += seconds
        return out

    if workers == 1:
        for feed in feeds:
            results.update(load_feed(feed))
        return results
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        futures = [pool.submit(load_feed, feed) for feed in feeds]
        errors = []
        for future in futures:
            try:
                results.update(future.result())
            except BaseException as exc:  # raise the first failure once every worker stopped
                errors.append(exc)
        if errors:
            raise errors[0]
    return results
