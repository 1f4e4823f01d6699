"""dbt models as Dagster assets, dbt tests as asset checks, in two definitions (two dbt processes):

- `dbt_staging_and_facts`: the staging models, the seeds and the incremental facts
  (`models/facts`), partitioned by UTC day, one run per backfill. The facts read the run's window
  from `audit.run_window`, which this step writes before dbt starts (orchestration/run_window.py);
- `dbt_models`: everything else (intermediate models and report marts), unpartitioned.

Staging and seeds build in the facts' step because the facts read them and the marts read the
facts: in a step of their own, or with the marts, they would cost a third dbt process (or, with the
marts, a step cycle that Dagster breaks by running the marts' step twice). Each step runs
`dbt build` (models and their tests) holding the warehouse writer lock.

dbt's target and logs stay in one folder per data directory (`<CW_DATA_DIR>/dbt/`), the vars
never change from run to run, and dbt's profile is the same in every data directory (dbt runs in
the warehouse's folder: orchestration/dbt_launcher.py), so dbt's partial parsing reuses the
previous parse: the project is parsed once per code change (`make prepare`), not once per run nor
once per new data directory.

The manifest Dagster loads is prepared at build time (`make prepare`, i.e. `dbt parse`), never at
import, except under `dagster dev` where `prepare_manifest_if_dev` keeps it fresh while models are
edited.
"""

import contextlib
import os
from collections.abc import Iterator, Mapping
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

from orchestration.dbt_project import dbt_project, prepare_manifest_if_dev
from orchestration.engine import (
    is_spark,
    land_run_window_for_engine,
    mirror_spark_tables,
    remove_orphans_for_engine,
)
from orchestration.nothing_new import build_fingerprint, record_build_fingerprint
from orchestration.partitions import daily_partitions
from orchestration.resources import WAREHOUSE_WRITER_POOL, WarehouseResource
from orchestration.run_window import clear_run_window, run_window_of, write_run_window
from orchestration.settings import DBT_RUN_ID_VARIABLE

prepare_manifest_if_dev()


class WarehouseDbtTranslator(DagsterDbtTranslator):
    """Asset keys `<schema>/<model>`, groups by layer; sources keep `raw/<table>`.

    dbt declares one source per source system (`sendgrid`, `pos`, ...) over the tables of schema
    `raw`; their keys are the physical tables, `raw/<table>`, which the ingestion assets produce,
    not dagster-dbt's default `<source>/<table>`.
    """

    def get_asset_spec(
        self,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        source = manifest["sources"].get(unique_id)
        if source is not None:
            return spec.replace_attributes(
                key=dg.AssetKey([source["schema"], source["identifier"]])
            )
        node = manifest["nodes"].get(unique_id)
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

# The dbt project as two Dagster definitions; every model is in exactly one of them
# (tests/test_definitions.py checks it). Selected by folder, so a model made incremental elsewhere
# (an intermediate rollup) stays with its layer.
STAGING_AND_FACTS_SELECT = "path:models/staging path:models/facts resource_type:seed"
MODELS_SELECT = "fqn:*"
MODELS_EXCLUDE = STAGING_AND_FACTS_SELECT


class DbtBuildConfig(dg.Config):
    """Run config of each dbt step (Launchpad: `ops: <step>: config: full_refresh: true`)."""

    full_refresh: bool = Field(
        default=False,
        description="Pass --full-refresh: rebuild incremental models (and seeds) from scratch.",
    )
    unit_tests: bool = Field(
        default=False,
        description="Also run the dbt unit tests. They test the models' logic on fixed inputs, "
        "not the data, so scheduled runs leave them to CI (tests/test_dbt_unit_tests.py).",
    )


def dbt_build_args(warehouse: WarehouseResource, config: DbtBuildConfig) -> list[str]:
    """`dbt build` with the installation's vars: the same on every run, so nothing re-parses."""
    args = ["build", "--vars", warehouse.dbt_vars_arg()]
    args += ["--log-path", str(warehouse.settings.dbt_log_dir)]
    if config.full_refresh:
        args.append("--full-refresh")
    if not config.unit_tests:
        args += ["--exclude-resource-type", "unit_test"]
    return args


def _dbt_build(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """`dbt build` of the selected nodes in the data directory's one dbt target folder."""
    target = warehouse.settings.dbt_target_dir
    args = dbt_build_args(warehouse, config)
    for folder in remove_orphans_for_engine(warehouse.settings, dbt_project.manifest_path):
        context.log.warning(f"removed {folder}: a killed Spark build left it without its table")
    with run_id_in_environment(context.run.run_id):
        yield from dbt.cli(args, context=context, target_path=target).stream()
    if is_spark(warehouse.settings):
        mirrored = mirror_spark_tables(warehouse.settings, dbt_project.manifest_path)
        context.log.info(f"Spark tables readable in the DuckDB warehouse: {len(mirrored)}")


@contextlib.contextmanager
def run_id_in_environment(run_id: str) -> Iterator[None]:
    """The run id in the environment the dbt process inherits (dagster-dbt copies os.environ).

    The target folder no longer names the run, so this is how recovery tells a dead run's dbt
    processes (orchestration/recovery.py). Steps that start dbt hold the writer pool: one at a time.
    """
    previous = os.environ.get(DBT_RUN_ID_VARIABLE)
    os.environ[DBT_RUN_ID_VARIABLE] = run_id
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(DBT_RUN_ID_VARIABLE, None)
        else:
            os.environ[DBT_RUN_ID_VARIABLE] = previous


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    select=STAGING_AND_FACTS_SELECT,
    name="dbt_staging_and_facts",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_WRITER_POOL,
)
def dbt_staging_and_facts(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: DbtBuildConfig,
):
    """Staging views, seeds and the incremental facts for the run's days, with their tests.

    One daily partition per UTC day; a backfill of a range is one run (single-run backfill policy)
    whose window is the whole range. The facts rebuild the window (widened by the lookback) and
    every day that received newly landed rows.
    """
    window = run_window_of(context)
    context.log.info(
        f"run window: {window.describe()}"
        if window
        else "no partition: the facts rebuild newly landed days only"
    )
    with warehouse.writer_lock(context):
        with warehouse.connect() as con:
            write_run_window(con, context.run.run_id, window)
            # what this build is made of: a later run with nothing new compares it (nothing_new.py)
            record_build_fingerprint(con, context.run.run_id, build_fingerprint(warehouse.settings))
            land_run_window_for_engine(con, warehouse.settings)
        try:
            yield from _dbt_build(context, dbt, warehouse, config)
        finally:
            with warehouse.connect() as con:
                clear_run_window(con)
                land_run_window_for_engine(con, warehouse.settings)


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
    """Intermediate models and report marts (built from the facts), with their tests."""
    with warehouse.writer_lock(context):
        yield from _dbt_build(context, dbt, warehouse, config)


DBT_ASSETS: list[dg.AssetsDefinition] = [dbt_staging_and_facts, dbt_models]
DBT_STEP_NAMES = [assets_def.node_def.name for assets_def in DBT_ASSETS]
DBT_ASSET_KEYS = [key for assets_def in DBT_ASSETS for key in assets_def.keys]


def dbt_run_config(full_refresh: bool = False) -> dict:
    """Run config for the job: the same dbt options on every dbt step."""
    return {"ops": {name: {"config": {"full_refresh": full_refresh}} for name in DBT_STEP_NAMES}}
