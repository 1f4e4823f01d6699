"""The dbt project as Dagster sees it, and the preparation of its manifest (`make prepare`).

Dagster reads dbt's manifest when the definitions load, so the manifest is a build artifact:
`make prepare` (this module as a script) or the CLI (when it is missing) run `dbt parse`, never
the import. The parse uses the same vars as a run and, like a run, goes through
`campaign-warehouse-dbt` (orchestration/dbt_launcher.py), whose profile names the warehouse the
same way in every data folder. So its `partial_parse.msgpack`, which dagster-dbt copies into a
data folder's empty dbt target, is valid in every data folder: a first run parses nothing more.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from dagster._utils import run_with_concurrent_update_guard
from dagster_dbt import DbtProject

from orchestration.engine import dbt_target, export_dbt_environment, manifest_folder
from orchestration.resources import WarehouseDbtCliResource
from orchestration.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def find_dbt_executable(name: str = "dbt") -> str:
    """A script installed beside this Python (the venv), even when the venv is not activated."""
    candidates = [
        Path(sys.executable).parent / name,
        Path(sys.prefix) / "bin" / name,
        DBT_PROJECT_DIR.parent / ".venv" / "bin" / name,
    ]
    found = next((path for path in candidates if path.exists()), None)
    return str(found) if found else (shutil.which(name) or name)


# The dbt the pipeline starts: dbt in the warehouse's folder (orchestration/dbt_launcher.py).
dbt_executable = find_dbt_executable("campaign-warehouse-dbt")
if shutil.which("dbt") is None and os.path.isabs(dbt_executable):
    # dagster-dbt's default executable is `dbt` on PATH: let it find the venv's, beside ours.
    os.environ["PATH"] = f"{Path(dbt_executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"


def prepare_args(settings: Settings) -> list[str]:
    """`dbt parse` with a run's vars (a parse with other vars is useless to a partial parse)."""
    return ["parse", "--quiet", "--vars", json.dumps(settings.dbt_vars())]


_settings = Settings.from_env()
# The engine's profile target and manifest folder (orchestration/engine.py); dagster-dbt's
# DbtCliResource takes the same target (orchestration/definitions.py).
dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target=dbt_target(_settings),
    target_path=manifest_folder(_settings),
    prepare_project_cli_args=prepare_args(_settings),
)


def prepare_manifest() -> None:
    """`dbt parse` into dbt_project/target (target-spark on Spark): the manifest Dagster loads.

    Started as a run starts dbt (the same executable, target and vars), so that the parse's
    profile, which partial parsing compares, is a run's.
    """
    settings = Settings.from_env()
    export_dbt_environment(settings)
    dbt = WarehouseDbtCliResource(
        project_dir=dbt_project, target=dbt_target(settings), dbt_executable=dbt_executable
    )
    target = dbt_project.project_dir / dbt_project.target_path  # absolute: dbt runs elsewhere
    dbt.cli(prepare_args(settings), target_path=target).wait()


def prepare_manifest_if_dev() -> None:
    """Under `dagster dev` and `dg`, parse again at load, so edited models show: DbtProject's
    `prepare_if_dev`, but through prepare_manifest (its parse made as a run's, see above)."""
    if dbt_project.preparer.using_dagster_dev():
        # one parse at a time: the dev server's processes load the definitions together
        run_with_concurrent_update_guard(Path(dbt_project.manifest_path), prepare_manifest)


if __name__ == "__main__":
    prepare_manifest()
