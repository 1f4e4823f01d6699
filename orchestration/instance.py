"""The Dagster instance the CLI and `dagster dev` share: DAGSTER_HOME under the data directory."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import dagster as dg
import yaml

from orchestration.jobs import WRITER_TAG_KEY

log = logging.getLogger(__name__)

# One writer at a time: steps in the warehouse writer pool run one at a time (DuckDB's single
# writer), and the run queue starts one run of the campaign_warehouse job at a time (its runs
# carry the writer tag), so a scheduled, a sensor and a UI run queue instead of colliding. The run
# limits live under `concurrency: runs:` (the run queue of the QueuedRunCoordinator): Dagster
# refuses `run_queue: tag_concurrency_limits` next to `concurrency: pools:`.
# A run whose process died (kill -9, OOM) would stay STARTED and keep its pool slot forever, so
# every later run would wait on that slot. Run monitoring (a daemon loop) asks the run launcher
# whether each started run's process is alive: our launcher (orchestration/recovery.py) checks
# the run's pid, Dagster's default one cannot tell. A dead run is marked failed (no resume:
# a half-done run is rerun from the start by the next run, whose steps are idempotent), and
# `free_slots_after_run_end_seconds` frees the slots of finished runs. The CLI does the same
# check itself before every run (it may run without a daemon).
# The event log is Dagster's SQLite one with a pool per file (orchestration/event_log_storage.py):
# the default opens and disposes of an engine for every event; runs, schedules stay the default.
POOLED_EVENT_LOG_YAML = """\
event_log_storage:
  module: orchestration.event_log_storage
  class: PooledSqliteEventLogStorage
"""
DAGSTER_YAML = f"""\
concurrency:
  pools:
    default_limit: 1
  runs:
    tag_concurrency_limits:
      - key: "{WRITER_TAG_KEY}"
        limit: 1
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
run_launcher:
  module: orchestration.recovery
  class: WarehouseRunLauncher
run_monitoring:
  enabled: true
  poll_interval_seconds: 30
  start_timeout_seconds: 180
  cancel_timeout_seconds: 180
  max_resume_run_attempts: 0
  free_slots_after_run_end_seconds: 30
{POOLED_EVENT_LOG_YAML}telemetry:
  enabled: false
"""

# What earlier versions wrote; such a file is upgraded in place.
PREVIOUS_DAGSTER_YAMLS = (
    DAGSTER_YAML.replace(POOLED_EVENT_LOG_YAML, ""),  # before the pooled event log
    f"""\
concurrency:
  pools:
    default_limit: 1
  runs:
    tag_concurrency_limits:
      - key: "{WRITER_TAG_KEY}"
        limit: 1
run_coordinator:
  module: dagster._core.run_coordinator
  class: QueuedRunCoordinator
telemetry:
  enabled: false
""",
    """\
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
""",
)


def limits_writer_runs(config: object) -> bool:
    """Whether a dagster.yaml (parsed) limits runs with the writer tag to one at a time."""
    if not isinstance(config, dict):
        return False
    candidates = [
        ((config.get("concurrency") or {}).get("runs") or {}).get("tag_concurrency_limits"),
        (config.get("run_queue") or {}).get("tag_concurrency_limits"),
        ((config.get("run_coordinator") or {}).get("config") or {}).get("tag_concurrency_limits"),
    ]
    for limits in candidates:
        for limit in limits or []:
            if (
                isinstance(limit, dict)
                and limit.get("key") == WRITER_TAG_KEY
                and limit.get("value") in (None, "1")
                and int(limit.get("limit", 0)) == 1
            ):
                return True
    return False


def ensure_dagster_yaml(home: Path) -> Path:
    """Write dagster.yaml if missing; upgrade one we wrote before; warn about a hand-edited one."""
    config = home / "dagster.yaml"
    if not config.exists() or config.read_text() in PREVIOUS_DAGSTER_YAMLS:
        config.write_text(DAGSTER_YAML)
        return config
    try:
        parsed = yaml.safe_load(config.read_text())
    except yaml.YAMLError:
        parsed = None
    if not limits_writer_runs(parsed):
        # Somebody's own configuration: never rewrite it, say what it lacks.
        log.warning(
            "%s does not limit runs tagged %s to one at a time: scheduled, sensor and UI runs of "
            "campaign_warehouse may start together and wait on the warehouse writer lock. Add "
            "under `concurrency: runs: tag_concurrency_limits:` the entry "
            '`{key: "%s", limit: 1}` (see orchestration/instance.py).',
            config,
            WRITER_TAG_KEY,
            WRITER_TAG_KEY,
        )
    monitoring = parsed.get("run_monitoring") if isinstance(parsed, dict) else None
    if not (monitoring or {}).get("enabled"):
        log.warning(
            "%s does not enable run monitoring: under the daemon, a run whose process died stays "
            "STARTED and keeps its warehouse writer slot until a CLI run recovers it. Add the "
            "`run_monitoring:` and `run_launcher:` entries of orchestration/instance.py.",
            config,
        )
    return config


def ensure_dagster_home(data_dir: Path) -> Path:
    """DAGSTER_HOME from the environment, else `<data>/dagster_home`, with its dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    ensure_dagster_yaml(home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def get_instance(data_dir: Path) -> dg.DagsterInstance:
    ensure_dagster_home(data_dir)
    return dg.DagsterInstance.get()
