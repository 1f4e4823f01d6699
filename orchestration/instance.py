"""The Dagster instance the CLI and `dagster dev` share: DAGSTER_HOME under the data directory."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

# One writer at a time for everything in the warehouse writer pool (DuckDB's single writer).
DAGSTER_YAML = """\
concurrency:
  pools:
    default_limit: 1
telemetry:
  enabled: false
"""


def ensure_dagster_home(data_dir: Path) -> Path:
    """DAGSTER_HOME from the environment, else `<data>/dagster_home`, with its dagster.yaml."""
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir / "dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def get_instance(data_dir: Path) -> dg.DagsterInstance:
    ensure_dagster_home(data_dir)
    return dg.DagsterInstance.get()
