"""The process-level warehouse writer lock: re-entrant within a process, exclusive across them."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from orchestration.warehouse_lock import (
    WarehouseLockedError,
    warehouse_writer_lock,
    writer_lock_path,
)
from tests.conftest import REPO

HOLDER = textwrap.dedent(
    """
    import sys
    from orchestration.warehouse_lock import warehouse_writer_lock
    with warehouse_writer_lock(sys.argv[1], timeout=30, what="test holder"):
        print("held", flush=True)
        sys.stdin.readline()  # hold until the test closes stdin
    """
)


class HeldLock:
    """The writer lock of `warehouse`, held by another process until `release()`."""

    def __init__(self, warehouse: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(warehouse)],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "held"

    @property
    def pid(self) -> int:
        return self.process.pid

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()
            self.process.wait(timeout=30)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.release()
        if self.process.poll() is None:
            self.process.kill()


def test_lock_file_sits_next_to_the_warehouse(tmp_path):
    assert writer_lock_path(tmp_path / "warehouse.duckdb") == tmp_path / (
        "warehouse.duckdb.writer.lock"
    )


def test_lock_is_reentrant_within_a_process_and_records_its_holder(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with warehouse_writer_lock(warehouse, timeout=1, what="outer") as lock_file:
        with warehouse_writer_lock(warehouse, timeout=0):  # same process: no wait, no deadlock
            holder = json.loads(lock_file.read_text())
            assert holder["what"] == "outer"
            assert holder["pid"] > 0 and holder["since"]
        # still held after the inner release
        assert json.loads(lock_file.read_text())["what"] == "outer"
    assert lock_file.read_text() == ""  # released: no stale holder left behind


def test_held_lock_times_out_naming_the_file_and_the_holder(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with HeldLock(warehouse) as held:
        started = time.monotonic()
        with (
            pytest.raises(WarehouseLockedError) as error,
            warehouse_writer_lock(warehouse, timeout=0.5),
        ):
            pass
        assert time.monotonic() - started < 5
        message = str(error.value)
        assert str(writer_lock_path(warehouse)) in message
        assert f"pid {held.pid}" in message
        assert "retry when it has finished" in message
        held.release()
        with warehouse_writer_lock(warehouse, timeout=5):  # free again
            pass


def test_lock_waits_for_a_holder_that_finishes_within_the_timeout(tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    with HeldLock(warehouse) as held:
        threading.Timer(0.5, held.release).start()
        started = time.monotonic()
        with warehouse_writer_lock(warehouse, timeout=20):
            assert time.monotonic() - started >= 0.4


def test_timeout_comes_from_the_environment(tmp_path, monkeypatch):
    from orchestration.settings import writer_lock_timeout_seconds

    assert writer_lock_timeout_seconds({}) == 60
    monkeypatch.setenv("CW_WRITER_LOCK_TIMEOUT_SECONDS", "0.2")
    warehouse = tmp_path / "warehouse.duckdb"
    with HeldLock(warehouse):
        started = time.monotonic()
        with (
            pytest.raises(WarehouseLockedError, match="waited 0.2s"),
            warehouse_writer_lock(warehouse),
        ):
            pass
        assert time.monotonic() - started < 5
