"""The dbt unit tests (every definition of reports.md with an edge case), run once per suite.

Scheduled runs leave them out (`--exclude-resource-type unit_test`, orchestration/assets/dbt.py):
they test the models' logic on fixed inputs, not the data, so they belong in CI. dbt needs the
models' input tables to exist, with their columns, to type the fixtures: a temp warehouse gets the
raw and audit tables ingestion creates (`ensure_schema`) and the seeds, and every model built
`--empty` (no rows, the real columns), in seconds instead of a pipeline run.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import duckdb

from ingestion.schema import ensure_schema
from orchestration.dbt_project import find_dbt_executable
from orchestration.settings import Settings
from tests.conftest import REPO, cli_env


def dbt(args: list[str], tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    dbt_vars = Settings.from_env(env).dbt_vars()
    return subprocess.run(
        [find_dbt_executable(), *args, "--vars", json.dumps(dbt_vars)]
        + ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=REPO / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_every_dbt_unit_test_passes(tmp_path):
    env = cli_env(tmp_path, tmp_path / "landing")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        ensure_schema(conn)
    # the unit tests' parents, with no rows: seeds (small) and every model `--empty`
    built = dbt(
        ["build", "--empty", "--resource-type", "seed", "--resource-type", "model"], tmp_path, env
    )
    assert built.returncode == 0, built.stdout[-5000:]

    tested = dbt(["test", "--select", "test_type:unit"], tmp_path, env)
    assert tested.returncode == 0, tested.stdout[-5000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    # the unit tests' results, not the project's on-run-start hook (an `operation.` node)
    results = [r for r in results if r["unique_id"].startswith("unit_test.")]
    declared = json.loads((tmp_path / "target" / "manifest.json").read_text())["unit_tests"]
    assert len(declared) >= 30
    assert {r["unique_id"] for r in results} == set(declared)  # every unit test ran
    assert all(r["status"] == "pass" for r in results)
