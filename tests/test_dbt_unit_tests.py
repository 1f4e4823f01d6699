"""The dbt unit tests (every definition of reports.md with an edge case), run once per suite.

Scheduled runs leave them out (`--exclude-resource-type unit_test`, orchestration/assets/dbt.py):
they test the models' logic on fixed inputs, not the data, so they belong in CI. dbt needs the
models' input tables to exist to type the fixtures: they run against a copy of the session's
end-to-end warehouse.
"""

from __future__ import annotations

import json
import shutil
import subprocess

from orchestration.assets.dbt import find_dbt_executable
from orchestration.settings import Settings
from tests.conftest import REPO, cli_env


def test_every_dbt_unit_test_passes(pipeline_run, landing_zone, tmp_path):
    data_dir, result = pipeline_run
    assert result.returncode == 0, result.stderr[-3000:]
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(data_dir / "warehouse.duckdb", warehouse)
    env = cli_env(tmp_path, landing_zone)
    dbt_vars = Settings.from_env(env).dbt_vars()
    dbt = subprocess.run(
        [
            find_dbt_executable(),
            "test",
            "--select",
            "test_type:unit",
            "--vars",
            json.dumps(dbt_vars),
        ]
        + ["--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")],
        cwd=REPO / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert dbt.returncode == 0, dbt.stdout[-5000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    declared = json.loads((tmp_path / "target" / "manifest.json").read_text())["unit_tests"]
    assert len(declared) >= 30
    assert {r["unique_id"] for r in results} == set(declared)  # every unit test ran
    assert all(r["status"] == "pass" for r in results)
