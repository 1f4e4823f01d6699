"""What `campaign-warehouse run` prints by default: a few lines, no log noise, no colour codes;
the logs are in the file the summary names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

STEPS = ("ingest", "facts", "checks", "marts", "publish")


def test_quiet_output_is_one_line_per_step_and_a_short_summary(small_run):
    out = small_run.result.stdout
    lines = out.splitlines()
    assert len(lines) < 25, out
    assert "\x1b[" not in out and "DEBUG" not in out and "Traceback" not in out
    for step in STEPS:
        assert any(re.match(rf"{step}\s+.*\s\d+ s$", line) for line in lines), (step, out)
    ingest = next(line for line in lines if line.startswith("ingest "))
    assert re.search(r"[\d,]+ files, [\d,]+ rows loaded, .*quarantined", ingest)
    reports = next(i for i, line in enumerate(lines) if line.startswith("reports "))
    assert re.match(r"reports\s+\d+ campaign pages and an index$", lines[reports])
    assert lines[reports + 1].startswith("Published version ")
    assert len(small_run.result.stderr.splitlines()) <= 2, small_run.result.stderr


def test_summary_names_the_log_file_and_reports(small_run):
    lines = small_run.result.stdout.splitlines()
    log = Path(next(line.split(None, 1)[1] for line in lines if line.startswith("  log ")))
    assert log.parent == small_run.data_dir / "logs" and log.exists()
    text = log.read_text()
    assert "STEP_START" in text and "Running dbt command" in text
    assert "\x1b[" not in text  # colour codes stripped
    reports = next(line.split(None, 1)[1] for line in lines if line.startswith("  reports "))
    assert reports.endswith("index.html") and Path(reports).exists()
    quarantined = next(line for line in lines if line.startswith("  rows "))
    assert "campaign-warehouse quarantine --data" in quarantined
