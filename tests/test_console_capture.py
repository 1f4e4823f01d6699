"""`capture_logs`: everything written to fds 1 and 2 reaches the log file, and the block ends at
once even when a child process that inherited those fds outlives it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from orchestration.console import capture_logs


def test_the_log_gets_every_line_and_a_lingering_child_does_not_hold_the_exit(tmp_path):
    log_path = tmp_path / "logs" / "run.log"
    lingering = None
    started = time.monotonic()
    try:
        with capture_logs(log_path, echo=False):
            os.write(1, b"from fd 1, \x1b[32mcoloured\x1b[0m\n")
            os.write(2, "from fd 2, é, no newline".encode())
            subprocess.run([sys.executable, "-c", "print('from a child')"], check=True)
            # Like multiprocessing's resource tracker: inherits fds 1 and 2, lives on.
            lingering = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        elapsed = time.monotonic() - started
    finally:
        if lingering is not None:
            lingering.kill()
            lingering.wait()
    text = log_path.read_text(encoding="utf-8")
    assert "from fd 1, coloured\n" in text  # colour codes stripped
    assert "from a child\n" in text
    assert "from fd 2, é, no newline" in text
    assert elapsed < 5, f"the block took {elapsed:.1f} s to end"
