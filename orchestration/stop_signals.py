"""Ctrl-C and SIGTERM stop a CLI run within seconds, leaving nothing stuck behind.

Python runs signal handlers only between bytecodes of the main thread, and Dagster replaces the
SIGINT handler while it executes: a run busy in a long DuckDB call, or looping on a pool slot,
did not stop for minutes. Here the C-level handler writes the signal number to a socket
(`signal.set_wakeup_fd`) at once, and a watcher thread does the stopping: it stops the run's dbt
subprocess, marks the run failed and frees its pool slots, and exits with 128 + the signal
number. The kernel releases the writer lock (flock) with the process. Whatever the main thread
was writing is abandoned as a kill would abandon it, which is safe by design: DuckDB commits
transactions atomically and publication is one `os.replace`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable

from orchestration.console import notice

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunStopper:
    """What to clean up when a stop signal arrives: set by the code that starts the run."""

    def __init__(self) -> None:
        self.cleanup: Callable[[int], None] | None = None
        self.lock_file: str | None = None
        self._guard = threading.Lock()

    def stop(self, signum: int) -> None:
        with self._guard:  # a second signal while stopping waits for the first
            name = signal.Signals(signum).name
            notice(f"campaign-warehouse: {name} received: stopping the run")
            if self.cleanup is not None:
                try:
                    self.cleanup(signum)
                except Exception as error:  # noqa: BLE001 - exit anyway; the next run recovers
                    notice(
                        f"campaign-warehouse: cleanup after {name} incomplete ({error}); the next "
                        "run will find this run's process gone and recover it"
                    )
            if self.lock_file:
                with contextlib.suppress(OSError):
                    os.truncate(self.lock_file, 0)  # no stale holder left in the lock file
            sys.stderr.flush()
            os._exit(128 + signum)


stopper = RunStopper()


def install() -> None:
    """Route SIGINT and SIGTERM to the watcher thread (call once, from the main thread)."""
    receiver, sender = socket.socketpair()
    sender.setblocking(False)
    signal.set_wakeup_fd(sender.fileno(), warn_on_full_buffer=False)
    for signum in STOP_SIGNALS:
        signal.signal(signum, _note_signal)

    def watch() -> None:
        while True:
            data = receiver.recv(1)
            if data and data[0] in STOP_SIGNALS:
                stopper.stop(data[0])

    threading.Thread(target=watch, name="stop-signal-watcher", daemon=True).start()
    _keep_alive.extend([receiver, sender])


_keep_alive: list[socket.socket] = []


def _note_signal(signum, frame) -> None:
    """The Python-level handler: the watcher thread does the work (see the module docstring)."""
