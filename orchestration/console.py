"""What a person sees on the terminal: one line per step, a progress indicator, the log file.

`capture_logs` sends everything Dagster, dbt and the libraries print (file descriptors 1 and 2,
so the dbt subprocess too) to a log file, and to the terminal's stderr only with `--verbose`.
`Console` writes the CLI's own lines to the terminal as it was before the capture. `RunProgress`
listens to the run's Dagster events and turns each finished step into one line.
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import logging
import os
import re
import select
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
LABEL_WIDTH = 9

# Dagster steps of the job, as a person reads them.
STEP_LABELS = {
    "ingest_landing_zone": "ingest",
    "dbt_staging_and_facts": "facts",  # staging views, seeds and the incremental facts
    "dbt_models": "marts",
    "great_expectations_checks": "checks",
    "published__reports": "publish",
}


def step_label(step: str) -> str:
    if step in STEP_LABELS:
        return STEP_LABELS[step]
    return "checks" if "check" in step else step[: LABEL_WIDTH - 1]


# The terminal's stderr while `capture_logs` routes fds 1 and 2 into the log file: operator
# notices (a dead run recovered, a run stopped by a signal) must reach the person, not only the log.
_terminal_err: TextIO | None = None


def notice(text: str) -> None:
    """A line the operator must see, on the terminal and in the log, even during a capture."""
    print(text, file=sys.stderr, flush=True)  # the log while capturing, else the terminal
    if _terminal_err is not None:
        _terminal_err.write(text + "\n")
        _terminal_err.flush()


def log_file_path(data_dir: Path, command: str) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return data_dir / "logs" / f"{command}-{stamp}.log"


def colours_wanted(stream: TextIO) -> bool:
    return stream.isatty() and not os.environ.get("NO_COLOR")


class Console:
    """The CLI's own output: step lines, a progress line that redraws itself on a TTY."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.tty = stream.isatty()
        self._progress: tuple[str, str, float] | None = None
        self._lock = threading.Lock()
        self._ticker: threading.Thread | None = None
        self._spinner = itertools.cycle("|/-\\")
        self._closed = False

    def line(self, text: str = "") -> None:
        with self._lock:
            self._clear()
            self.stream.write(text + "\n")
            self.stream.flush()

    def step(self, label: str, detail: str, seconds: float) -> None:
        self.line(f"{label:<{LABEL_WIDTH - 1}} {detail}   {seconds:,.0f} s")

    def progress(self, label: str, detail: str, started: float | None = None) -> None:
        """Show (on a TTY only) what a running step is doing; redrawn every 0.2 s."""
        if not self.tty:
            return
        with self._lock:
            previous = self._progress
            start = started or (previous[2] if previous and previous[0] == label else time.time())
            self._progress = (label, detail, start)
            self._draw()
        if self._ticker is None:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def done(self) -> None:
        with self._lock:
            self._clear()
            self._progress = None

    def close(self) -> None:
        """Stop redrawing (the stream is about to close)."""
        self.done()
        self._closed = True

    def _tick(self) -> None:
        while not self._closed:
            time.sleep(0.2)
            with self._lock:
                if self._progress and not self._closed:
                    self._draw()

    def _draw(self) -> None:
        label, detail, start = self._progress  # type: ignore[misc]
        elapsed = time.time() - start
        text = f"{label:<{LABEL_WIDTH - 1}} {detail} {next(self._spinner)} {elapsed:,.0f} s"
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()

    def _clear(self) -> None:
        if self.tty and self._progress:
            self.stream.write("\r\x1b[K")


@contextlib.contextmanager
def capture_logs(log_path: Path, echo: bool) -> Iterator[tuple[TextIO, TextIO]]:
    """Route fds 1 and 2 into `log_path` (colour codes stripped), and to stderr when `echo`.

    Yields the terminal's stdout and stderr as they were, for the CLI's own lines.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    terminal = os.fdopen(os.dup(saved_out), "w", buffering=1, encoding="utf-8")
    terminal_err = os.fdopen(os.dup(saved_err), "w", buffering=1, encoding="utf-8")
    read_fd, write_fd = os.pipe()
    log = log_path.open("a", encoding="utf-8")

    finished = threading.Event()

    def pump() -> None:
        # Reads until the with-block has ended and the pipe has nothing more, not until EOF: a
        # process that inherited fds 1 and 2 (multiprocessing's resource tracker, started by a
        # run's worker pool, lives as long as the CLI) holds the pipe open, and waiting for EOF
        # cost 10 s at the end of every run.
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        partial = ""
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while True:
                if not select.select([pipe], [], [], 0.05)[0]:
                    if finished.is_set():
                        break
                    continue
                chunk = pipe.read(1 << 16)
                if not chunk:
                    break
                *lines, partial = (partial + decoder.decode(chunk)).split("\n")
                write_lines([line + "\n" for line in lines])
        write_lines([partial + decoder.decode(b"", final=True)] if partial else [])

    def write_lines(lines: list[str]) -> None:
        for text in lines:
            log.write(ANSI_ESCAPE.sub("", text))
            if echo:
                terminal_err.write(text)
        log.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    os.dup2(write_fd, 1)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    handler = logging.StreamHandler(sys.stderr)  # Python logging (ours, libraries') into the log
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    global _terminal_err
    _terminal_err = None if echo else terminal_err  # with echo the log copy reaches it already
    try:
        yield terminal, terminal_err
    finally:
        _terminal_err = None
        root.removeHandler(handler)
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved_out, 1)
        os.dup2(saved_err, 2)
        os.close(saved_out)
        os.close(saved_err)
        finished.set()
        reader.join(timeout=10)
        log.close()
        terminal.close()
        terminal_err.close()


@dataclass
class StepResult:
    label: str
    seconds: float
    status: str  # success | failure | skipped
    models: int = 0
    tests: int = 0
    tests_failed: int = 0
    error: str | None = None


@dataclass
class RunProgress:
    """A Dagster event listener (`instance.add_event_listener`): one console line per step."""

    console: Console
    models_per_step: dict[str, int] = field(default_factory=dict)
    ingest: dict[str, int] = field(default_factory=dict)
    steps: list[StepResult] = field(default_factory=list)
    _started: dict[str, float] = field(default_factory=dict)
    _models: dict[str, set] = field(default_factory=dict)  # asset keys (once, all partitions)
    _checks: dict[str, list[bool]] = field(default_factory=dict)

    def __call__(self, entry) -> None:
        event = entry.dagster_event
        if event is None or event.step_key is None:
            return
        step, kind = event.step_key, event.event_type_value
        label = step_label(step)
        if kind == "STEP_START":
            self._started[step] = time.time()
            self.console.progress(label, self._running_text(step), self._started[step])
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            self._models.setdefault(step, set()).add(materialization.asset_key)
            if step == "ingest_landing_zone" and materialization.asset_key.path[0] == "audit":
                self.ingest = {k: int(v.value) for k, v in materialization.metadata.items()}
            self.console.progress(label, self._running_text(step))
        elif kind == "ASSET_CHECK_EVALUATION":
            self._checks.setdefault(step, []).append(bool(event.event_specific_data.passed))
            self.console.progress(label, self._running_text(step))
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED"):
            self._finish(step, label, kind, event)

    def _running_text(self, step: str) -> str:
        total = self.models_per_step.get(step)
        if total:
            return f"{len(self._models.get(step, ()))}/{total} models"
        return "running"

    def _finish(self, step: str, label: str, kind: str, event) -> None:
        seconds = time.time() - self._started.get(step, time.time())
        checks = self._checks.get(step, [])
        result = StepResult(
            label=label,
            seconds=seconds,
            status={"STEP_SUCCESS": "success", "STEP_FAILURE": "failure"}.get(kind, "skipped"),
            models=len(self._models.get(step, ())),
            tests=len(checks),
            tests_failed=checks.count(False),
        )
        if kind == "STEP_FAILURE":
            error = getattr(event.event_specific_data, "error", None)
            message = getattr(error, "message", "") or ""
            result.error = message.strip().splitlines()[0] if message.strip() else "failed"
        self.steps.append(result)
        self.console.done()
        self.console.step(label, self._describe(step, result), seconds)

    def _describe(self, step: str, result: StepResult) -> str:
        if result.status == "skipped":
            return "skipped (an upstream step failed)"
        if step == "ingest_landing_zone" and self.ingest:
            i = self.ingest
            text = f"{i.get('files', 0):,} files, {i.get('rows_loaded', 0):,} rows loaded"
            if i.get("rows_replayed"):
                text += f", {i['rows_replayed']:,} replayed"
            text += f", {i.get('rows_quarantined', 0):,} quarantined"
            return text + f", {i.get('files_rejected', 0):,} files rejected"
        if result.status == "failure":
            return f"FAILED: {result.error}"
        if step == "published__reports":
            return "published"
        parts = []
        if step in self.models_per_step:
            parts.append(f"{result.models:,} models")
        if result.tests:
            noun = "tests" if step.startswith("dbt") else "checks"
            failed = f" ({result.tests_failed} failed)" if result.tests_failed else ""
            parts.append(f"{result.tests:,} {noun}{failed}")
        return ", ".join(parts) or "done"
