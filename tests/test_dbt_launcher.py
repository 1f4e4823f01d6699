"""`campaign-warehouse-dbt`: dbt in the warehouse's folder, with the same profile for every folder.

Real dbt processes (`dbt debug --connection`, which opens the warehouse and prints the connection
info that dbt's partial parsing hashes), started as dagster-dbt starts them: from the project
folder, with the warehouse's absolute path in CW_WAREHOUSE_PATH.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from orchestration.dbt_launcher import enter_warehouse_folder
from orchestration.dbt_project import DBT_PROJECT_DIR, dbt_executable


def dbt_debug(warehouse: Path) -> str:
    result = subprocess.run(
        [dbt_executable, "debug", "--connection", "--target", "dev", "--no-use-colors"],
        cwd=DBT_PROJECT_DIR,
        env={
            **os.environ,
            "CW_WAREHOUSE_PATH": str(warehouse),
            "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
            "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout


def test_every_data_folder_renders_the_same_profile_and_opens_its_own_warehouse(tmp_path):
    first, second = tmp_path / "one" / "warehouse.duckdb", tmp_path / "two" / "warehouse.duckdb"
    outputs = [dbt_debug(first), dbt_debug(second)]
    assert first.exists() and second.exists()  # each folder's own warehouse was opened
    assert not (DBT_PROJECT_DIR / "warehouse.duckdb").exists()
    for output in outputs:
        assert "path: warehouse.duckdb" in output  # not the absolute path, which differs
        assert str(tmp_path) not in output


def test_a_duckdb_url_or_memory_is_passed_on_as_it_is():
    here = Path.cwd()
    for value in (":memory:", "md:warehouse"):
        environ = {"CW_WAREHOUSE_PATH": value}
        enter_warehouse_folder(environ)
        assert environ == {"CW_WAREHOUSE_PATH": value}
        assert Path.cwd() == here
