"""Shared fixtures: one small generated landing zone and one real end-to-end run per session.

The suite may run on several pytest-xdist workers (`make test` uses two). A build that many
modules read (a landing zone, a pipeline run) is made once per session, whichever worker asks
first, under a file lock; the other workers wait for it and read the same folder. Tests never
write to such a folder: a test that changes data works on a copy (`shutil.copytree`).

Tiers: a test that uses one of `PIPELINE_FIXTURES` (directly or through another fixture) is
marked `slow`, the pipeline tier; the rest is the fast tier (`pytest -m "not slow"`).
"""

from __future__ import annotations

import fcntl
import json
import os
import subprocess
import sys
import traceback
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "orchestration.cli"]
TEST_HASH_KEY = "test-pii-key"


def _name_the_main_module_of_xdist_workers() -> None:
    """An xdist worker runs as `python -c`: its `__main__` has neither a spec nor a file. pyspark
    (the opt-in spark extra) takes such a process for a doctest run and exits it (SystemExit 0)
    when Great Expectations imports `pyspark.sql.connect`; with a file name, the worker survives.
    """
    main = sys.modules["__main__"]
    if getattr(main, "__spec__", None) is None and not hasattr(main, "__file__"):
        main.__file__ = "<pytest-xdist worker>"


_name_the_main_module_of_xdist_workers()

# Fixtures that run the pipeline (the real CLI, or dbt over a whole landing zone): a test that
# needs one, however indirectly, belongs to the pipeline tier.
PIPELINE_FIXTURES = {"pipeline_run", "published", "small_run", "two_runs", "day_by_day"}


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the pipeline tier by fixture use, and order the files for two xdist workers.

    `--dist loadfile` hands a worker a whole file at a time, in this order: the pipeline files
    first, the short ones fill the gaps at the end; among the pipeline files, one per build in
    turn, so that the two workers start different builds instead of one waiting for the other's.
    A file's tests keep their order.
    """
    builds_of_file: dict[Path, set[str]] = {}
    for item in items:
        used = PIPELINE_FIXTURES & set(getattr(item, "fixturenames", ()))
        if used:
            item.add_marker(pytest.mark.slow)
        if item.get_closest_marker("slow"):
            builds_of_file.setdefault(item.path, set()).update(used)
    files_of_build: dict[str, list[Path]] = {}
    for path, builds in builds_of_file.items():
        files_of_build.setdefault(min(builds, default=""), []).append(path)
    turn = {
        path: (position, build)
        for build, paths in enumerate(files_of_build.values())
        for position, path in enumerate(paths)
    }
    after_them = (len(items), 0)  # (a list is empty to its sort's key function)
    items.sort(key=lambda item: turn.get(item.path, after_them))  # stable sort


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


def built_once(tmp_path_factory, name: str, build: Callable[[Path], dict]) -> tuple[Path, dict]:
    """`build(folder)` run once per session across xdist workers; (folder, what build returned).

    `build` fills an empty folder and returns a JSON-able record. The first worker to ask builds
    under an exclusive lock; the others block on the lock, then find the record and reuse it (a
    build that raised fails them all with its traceback, without building again).
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # the session's folder, shared by its workers
    folder, record = root / f"shared-{name}", root / f"shared-{name}.json"
    with open(root / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not record.exists():
            folder.mkdir()
            try:
                built = build(folder)
            except Exception:  # recorded, so that no other worker builds it again
                built = {"build_failed": traceback.format_exc()}
            record.write_text(json.dumps(built))
    built = json.loads(record.read_text())
    if "build_failed" in built:
        pytest.fail(f"the shared build {name} failed:\n{built['build_failed']}")
    return folder, built


def completed(record: dict) -> subprocess.CompletedProcess:
    """A CLI run's result, as `built_once` stored it."""
    return subprocess.CompletedProcess(
        record["args"], record["returncode"], record["stdout"], record["stderr"]
    )


def run_record(result: subprocess.CompletedProcess) -> dict:
    return {k: getattr(result, k) for k in ("args", "returncode", "stdout", "stderr")}


@pytest.fixture(scope="session")
def landing_zone(tmp_path_factory) -> Path:
    from demo_data import generate

    def build(out: Path) -> dict:
        generate(out, scale=1, seed=7, start=date(2026, 10, 1), days=30)
        return {}

    return built_once(tmp_path_factory, "landing", build)[0]


@pytest.fixture(scope="session")
def pipeline_run(tmp_path_factory, landing_zone):
    """`campaign-warehouse run` end to end on the generated landing zone (the real CLI).

    Read only: a test that writes to the data folder copies it first.
    """

    def build(data_dir: Path) -> dict:
        return run_record(run_cli(["run", "--json"], cli_env(data_dir, landing_zone)))

    data_dir, record = built_once(tmp_path_factory, "pipeline-run", build)
    return data_dir, completed(record)
