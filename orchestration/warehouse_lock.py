"""Open the DuckDB warehouse, waiting a while when another process holds its single-writer lock."""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

LOCK_WAIT_SECONDS = 60.0


class WarehouseLockedError(RuntimeError):
    """Another process holds the warehouse's writer lock for longer than we wait."""


def connect_warehouse(
    path: Path, read_only: bool = False, wait_seconds: float = LOCK_WAIT_SECONDS
) -> duckdb.DuckDBPyConnection:
    deadline = time.monotonic() + wait_seconds
    delay = 0.2
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
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
