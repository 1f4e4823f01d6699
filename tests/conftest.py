"""Shared fixtures: one small generated landing zone and one real end-to-end run per session."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "orchestration.cli"]
TEST_HASH_KEY = "test-pii-key"


def cli_env(data_dir: Path, landing_dir: Path) -> dict[str, str]:
    """A clean environment for the CLI: paths under tmp, a known hash key, no inherited CW_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CW_", "DAGSTER_"))}
    env.update(
        CW_DATA_DIR=str(data_dir),
        CW_LANDING_DIR=str(landing_dir),
        CW_WAREHOUSE_PATH=str(data_dir / "warehouse.duckdb"),
        CW_PII_HASH_KEY=TEST_HASH_KEY,
        DAGSTER_HOME=str(data_dir / "dagster_home"),
    )
    return env


def run_cli(args: list[str], env: dict[str, str], timeout: int = 900):
    return subprocess.run(
        CLI + args, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="session")
def landing_zone(tmp_path_factory) -> Path:
    from demo_data import generate

    out = tmp_path_factory.mktemp("landing")
    generate(out, scale=1, seed=7, start=date(2026, 10, 1), days=30)
    return out


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory, landing_zone):
    """`campaign-warehouse run` end to end on the generated landing zone (the real CLI)."""
    data_dir = tmp_path_factory.mktemp("data")
    env = cli_env(data_dir, landing_zone)
    result = run_cli(["run", "--json"], env)
    return data_dir, result
