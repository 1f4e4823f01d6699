"""The dbt project as Dagster sees it, and the preparation of its manifest (`make prepare`).

Dagster reads dbt's manifest when the definitions load, so the manifest is a build artifact:
`make prepare` (this module as a script) or the CLI (when it is missing) run `dbt parse`, never
the import. The parse uses the same vars and warehouse path as a run on the default data folder,
so its `partial_parse.msgpack`, which dagster-dbt copies into a data folder's empty dbt target, is
valid there and a first run parses nothing more.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from orchestration.engine import dbt_target, export_dbt_environment, manifest_folder
from orchestration.settings import Settings

DBT_PROJECT_DIR = Path(__file__).resolve().parents[1] / "dbt_project"


def find_dbt_executable() -> str:
    """The dbt installed beside this Python (the venv), even when the venv is not activated."""
    candidates = [
        Path(sys.executable).parent / "dbt",
        Path(sys.prefix) / "bin" / "dbt",
        DBT_PROJECT_DIR.parent / ".venv" / "bin" / "dbt",
    ]
    found = next((path for path in candidates if path.exists()), None)
    return str(found) if found else (shutil.which("dbt") or "dbt")


dbt_executable = find_dbt_executable()
if shutil.which("dbt") is None and os.path.isabs(dbt_executable):
    # dagster-dbt's preparer looks dbt up on PATH; point it at the same executable.
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
    """`dbt parse` into dbt_project/target (target-spark on Spark): the manifest Dagster loads."""
    export_dbt_environment(Settings.from_env())
    dbt_project.preparer.prepare(dbt_project)


if __name__ == "__main__":
    prepare_manifest()
