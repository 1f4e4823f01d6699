"""``ingest_landing_zone``: every new landed file of the selected feeds into the warehouse."""

from __future__ import annotations

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

from . import discovery, hashing, loader, masking, registry, schema, timestamps, validation
from .feeds import FEEDS
from .report import SKIPPED_KNOWN, FileReport, IngestReport

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IngestSettings:
    pii_hash_key: str = field(repr=False)  # the secret of the keyed PII hash
    currency: str = "RUB"  # the installation currency; rows in others are quarantined

    def __post_init__(self) -> None:
        if not self.pii_hash_key:
            raise ValueError("pii_hash_key must not be empty")
        if not self.currency or not self.currency.strip():
            raise ValueError("currency must not be empty")


def prepare_connection(con: duckdb.DuckDBPyConnection, settings: IngestSettings) -> None:
    """Session settings and TEMP macros (the key material lives only in this connection)."""
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET preserve_insertion_order = true")
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
    ``skipped_known``; each other file is loaded or rejected in its own transaction (when all
    feeds are selected, also the files of folders that name no feed: ``unknown feed``). Feeds
    load in parallel (``workers`` connections, default: up to 4 by CPU count); the files of one
    feed load one after the other, in path order, so replays within a feed are always seen.
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

    con = duckdb.connect(str(warehouse_path))
    try:
        prepare_connection(con, settings)
        schema.ensure_schema(con)
        known = registry.KnownFiles.load(con)
        todo: dict[str, list[tuple[int, discovery.LandedFile]]] = {}
        results: dict[int, FileReport] = {}
        every_feed = len(selected) == len(FEEDS)  # only then are other folders accounted for
        for i, landed in enumerate(
            discovery.discover(landing_dir, selected, include_unknown=every_feed)
        ):
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
        results.update(_load_feeds(con, settings, todo, ingested_at, workers))
        report.files = [results[i] for i in sorted(results)]
        con.execute("CHECKPOINT")
    finally:
        con.close()
    report.seconds = time.perf_counter() - started
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
    return report


def _load_feeds(
    con: duckdb.DuckDBPyConnection,
    settings: IngestSettings,
    todo: dict[str, list[tuple[int, discovery.LandedFile]]],
    ingested_at: datetime,
    workers: int | None,
) -> dict[int, FileReport]:
    """Load the new files, one worker connection per feed at a time."""
    workers = max(1, min(workers or min(4, os.cpu_count() or 1), len(todo) or 1))
    feeds = sorted(todo, key=lambda f: -sum(lf.size_bytes for _, lf in todo[f]))  # big first
    results: dict[int, FileReport] = {}
    failed = threading.Event()

    def load_feed(feed: str) -> dict[int, FileReport]:
        out: dict[int, FileReport] = {}
        cur = con.cursor()  # its own connection: own transactions and temp tables
        try:
            prepare_connection(cur, settings)
            for i, landed in todo[feed]:
                if failed.is_set():
                    break
                out[i] = loader.ingest_file(
                    cur, FEEDS[feed], landed, settings.currency, ingested_at
                )
        except BaseException:
            failed.set()
            raise
        finally:
            cur.close()
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
