"""Open the DuckDB warehouse, waiting a while when another process holds its single-writer lock;
and the process-level writer lock that keeps two runs from interleaving their writes."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.settings import connect_duckdb

log = logging.getLogger(__name__)

LOCK_WAIT_SECONDS = 60.0


class WarehouseLockedError(RuntimeError):
    """Another process holds the warehouse (its DuckDB lock, or our writer lock) for too long."""


def connect_warehouse(
    path: Path, read_only: bool = False, wait_seconds: float = LOCK_WAIT_SECONDS
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        try:
            return connect_duckdb(path, read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower():
                raise
            if time.monotonic() >= deadline:
                raise WarehouseLockedError(
                    f"the warehouse {path} is locked by another run (DuckDB allows one writer); "
                    f"waited {wait_seconds:.0f}s. Retry when that run has finished. ({error})"
                ) from error
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


# --- the writer lock: one writing process at a time, across every way of running the pipeline ---
#
# DuckDB allows one writer process, and the dbt subprocess fails at once when another process holds
# the file, so waiting inside `duckdb.connect` is not enough. Every writer (the CLI for its whole
# run; the ingestion, dbt, checks and publish steps of any run) takes an advisory `flock` on
# `<warehouse>.writer.lock` first. The lock is re-entrant within a process: flock on a second file
# descriptor of the same process would block against the first, so the process keeps one
# descriptor and counts its holders.

_held: dict[str, tuple[int, int]] = {}  # lock path -> (fd, holders in this process)
_held_guard = threading.Lock()


def writer_lock_path(warehouse_path: Path) -> Path:
    return Path(warehouse_path).with_name(Path(warehouse_path).name + ".writer.lock")


def _holder_description(lock_path: Path) -> str:
    try:
        info = json.loads(lock_path.read_text() or "{}")
    except (OSError, ValueError):
        info = {}
    if not info.get("pid"):
        return "an unknown process"
    return f"pid {info['pid']} (holding it since {info.get('since', '?')}: {info.get('what', '?')})"


def _report_stale_holder(lock_path: Path) -> None:
    """We hold the lock now; a holder still named in the file died without releasing it."""
    try:
        info = json.loads(os.fsdecode(lock_path.read_bytes()) or "{}")
    except (OSError, ValueError):
        return
    pid = info.get("pid")
    if not pid or pid == os.getpid():
        return
    from orchestration.recovery import process_alive

    if not process_alive(int(pid)):
        log.warning(
            "the previous holder of the warehouse writer lock, pid %s (%s, since %s), is gone "
            "without releasing it (killed or crashed): taking over; its Dagster run is recovered "
            "before this one starts",
            pid,
            info.get("what", "?"),
            info.get("since", "?"),
        )


def _acquire(lock_path: Path, timeout: float, what: str) -> int:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    delay = 0.05
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise WarehouseLockedError(
                        f"the warehouse writer lock {lock_path} is held by "
                        f"{_holder_description(lock_path)}; waited {timeout:g}s "
                        "(CW_WRITER_LOCK_TIMEOUT_SECONDS). Another run is writing the warehouse: "
                        "retry when it has finished."
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        _report_stale_holder(lock_path)
        holder = {
            "pid": os.getpid(),
            "since": datetime.now(UTC).isoformat(timespec="seconds"),
            "what": what,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(holder).encode(), 0)
        return fd
    except BaseException:
        os.close(fd)
        raise


@contextlib.contextmanager
def warehouse_writer_lock(
    warehouse_path: Path, timeout: float | None = None, what: str | None = None
) -> Iterator[Path]:
    """Hold the process-level writer lock of `warehouse_path` (re-entrant within the process).

    Waits up to `timeout` seconds (default CW_WRITER_LOCK_TIMEOUT_SECONDS, 60), then raises
    WarehouseLockedError naming the lock file and the process holding it.
    """
    from orchestration.settings import writer_lock_timeout_seconds

    lock_path = writer_lock_path(Path(warehouse_path).resolve())
    key = str(lock_path)
    wait = writer_lock_timeout_seconds() if timeout is None else timeout
    with _held_guard:
        if key in _held:
            fd, count = _held[key]
            _held[key] = (fd, count + 1)
        else:
            # Taken under the guard: a second thread of this process waits here, not on flock.
            fd = _acquire(lock_path, wait, what or " ".join(sys.argv[:2]) or "python")
            _held[key] = (fd, 1)
    try:
        yield lock_path
    finally:
        with _held_guard:
            fd, count = _held[key]
            if count > 1:
                _held[key] = (fd, count - 1)
            else:
                del _held[key]
                os.ftruncate(fd, 0)
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)
