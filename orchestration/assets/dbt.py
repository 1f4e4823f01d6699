"""dbt models as Dagster assets, dbt tests as asset checks, in three definitions (three steps):

- `dbt_staging`: staging models and seeds, unpartitioned;
- `dbt_incremental_facts`: the incremental facts (`config.materialized:incremental`), partitioned by
  UTC day, one run per backfill; dbt gets the run's window as vars `window_start`/`window_end`;
- `dbt_models`: everything else (intermediate models and report marts), unpartitioned.

Each step runs `dbt build` (models and their tests) holding the warehouse writer lock.

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
from pydantic import Field

from orchestration.partitions import daily_partitions
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

# The dbt project as three Dagster definitions; every model is in exactly one of them
# (tests/test_definitions.py checks it). The incremental facts are excluded from the other two by
# materialization, so a staging model made incremental moves to the facts, never into two.
INCREMENTAL = "config.materialized:incremental"
STAGING_SELECT = "path:models/staging resource_type:seed"
STAGING_EXCLUDE = INCREMENTAL
FACTS_SELECT = INCREMENTAL
MODELS_SELECT = "fqn:*"
MODELS_EXCLUDE = f"{STAGING_SELECT} {INCREMENTAL}"


class DbtBuildConfig(dg.Config):
    """Run config of each dbt step (Launchpad: `ops: <step>: config: full_refresh: true`)."""

    full_refresh: bool = Field(
        default=False,
        description="Pass --full-refresh: rebuild incremental facts (and seeds) from scratch.",
    )
    unit_tests: bool = Field(
        default=False,
        description="Also run the dbt unit tests. They test the models' logic on fixed inputs, "
        "not the data, so scheduled runs leave them to CI (tests/test_dbt_unit_tests.py).",
    )


def _dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """`dbt build` of the selected models and their tests, holding the warehouse writer lock.

    Every dbt step of a run passes the same vars (the settings and the run's window) and shares one
    target folder: dbt then parses the project once per run and the later steps reuse that parse
    (different `--vars` would force a full re-parse of the project in every step).
    """
    window = run_window(context)
    args = ["build", "--vars", warehouse.dbt_vars_arg(**(window or {}))]
    if config.full_refresh:
        args.append("--full-refresh")
    if not config.unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    target_path = Path(dbt_project.target_path) / f"run-{context.run.run_id}"
    with warehouse.writer_lock(context):
        yield from dbt.cli(args, context=context, target_path=target_path).stream()


def run_window(context: dg.AssetExecutionContext) -> dict[str, str] | None:
    """window_start/window_end (dates, end exclusive) of the run's partition or partition range.

    Read from the run's tags, so the unpartitioned dbt steps of a partitioned run get the same
    window as the facts. None when the run has no partition (then dbt only processes newly landed
    rows).
    """
    tags = context.run.tags
    start_key = tags.get("dagster/asset_partition_range_start") or tags.get("dagster/partition")
    end_key = tags.get("dagster/asset_partition_range_end") or tags.get("dagster/partition")
    if not (start_key and end_key):
        return None
    try:
        start = daily_partitions.time_window_for_partition_key(start_key).start
        end = daily_partitions.time_window_for_partition_key(end_key).end
    except Exception:  # noqa: BLE001 - a tag that is no daily partition key: no window
        return None
    return {"window_start": start.date().isoformat(), "window_end": end.date().isoformat()}


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=STAGING_SELECT,
    exclude=STAGING_EXCLUDE,
    name="dbt_staging",
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_WRITER_POOL,
)
def dbt_staging(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """Staging models (views and small tables) and seeds, with their tests; unpartitioned."""
    yield from _dbt_build(context, dbt, warehouse, config)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=FACTS_SELECT,
    name="dbt_incremental_facts",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_WRITER_POOL,
)
def dbt_incremental_facts(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """The incremental facts: rebuild the run's days (and newly landed ones), with their tests.

    One daily partition per UTC day; a backfill of a range is one run (single-run backfill policy),
    whose window is the whole range.
    """
    window = run_window(context)
    if window:
        context.log.info(f"dbt window: {window['window_start']} to {window['window_end']} (excl.)")
    else:
        context.log.info("no partition: dbt processes newly landed rows only")
    yield from _dbt_build(context, dbt, warehouse, config)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=MODELS_SELECT,
    exclude=MODELS_EXCLUDE,
    name="dbt_models",
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_WRITER_POOL,
)
def dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """Intermediate models and report marts (rebuilt from the facts), with their tests."""
    yield from _dbt_build(context, dbt, warehouse, config)


# The definitions that hold at least one dbt node (before the facts exist, that one is empty).
DBT_ASSETS: list[dg.AssetsDefinition] = [
    assets_def for assets_def in (dbt_staging, dbt_incremental_facts, dbt_models) if assets_def.keys
]
DBT_STEP_NAMES = [assets_def.node_def.name for assets_def in DBT_ASSETS]
# Whether the job is partitioned: only through the facts (no incremental model, no partitions).
HAS_PARTITIONED_FACTS = bool(dbt_incremental_facts.keys)
DBT_ASSET_KEYS = [key for assets_def in DBT_ASSETS for key in assets_def.keys]


def dbt_run_config(full_refresh: bool = False) -> dict:
    """Run config for the job: the same dbt options on every dbt step."""
    return {"ops": {name: {"config": {"full_refresh": full_refresh}} for name in DBT_STEP_NAMES}}
