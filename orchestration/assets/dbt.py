"""dbt models as Dagster assets, dbt tests as asset checks.

The manifest is prepared at build time (`make prepare`, i.e. `dbt parse`), never at import, except
under `dagster dev` where `prepare_if_dev` keeps it fresh while models are edited.
"""

import os
import shutil
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource

DBT_PROJECT_DIR = Path(__file__).resolve().parents[2] / "dbt_project"


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
    # dagster-dbt's dev-time preparer looks dbt up on PATH; point it at the same executable.
    os.environ["PATH"] = f"{Path(dbt_executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
dbt_project.prepare_if_dev()


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Asset keys `<schema>/<model>` (`raw/<table>` for sources), groups by layer."""

    def get_asset_spec(
        self,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        node = manifest["sources"].get(unique_id) or manifest["nodes"].get(unique_id)
        if node is None or node["resource_type"] not in ("model", "seed", "snapshot"):
            return spec
        layer = (
            node["fqn"][1] if node["resource_type"] == "model" and len(node["fqn"]) > 2 else "seeds"
        )
        return spec.replace_attributes(
            key=dg.AssetKey([node["schema"], node["name"]]),
            group_name=layer,
        )


translator = WarehouseDbtTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_WRITER_POOL,
)
def campaign_warehouse_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """`dbt build` of the selected models: models and their tests, in dependency order."""
    yield from dbt.cli(["build", "--vars", warehouse.dbt_vars_arg()], context=context).stream()
