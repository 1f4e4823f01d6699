"""The one Dagster `Definitions` of Campaign Warehouse (loaded by `dagster dev`, `dg`, the CLI)."""

from __future__ import annotations

import dagster as dg

from orchestration.assets.checks import GREAT_EXPECTATIONS_CHECKS
from orchestration.assets.dbt import DBT_ASSETS
from orchestration.assets.ingestion import ingest_landing_zone_asset
from orchestration.assets.publish import published_reports
from orchestration.dbt_project import dbt_executable, dbt_project
from orchestration.engine import dbt_target, export_dbt_environment
from orchestration.jobs import campaign_warehouse_job
from orchestration.resources import Warehouse, WarehouseDbtCliResource
from orchestration.schedules import nightly_campaign_warehouse
from orchestration.sensors import new_landed_files
from orchestration.settings import Settings

settings = Settings.from_env()
# dbt's profile reads the warehouse path (and Spark's folder) from the environment (dbt runs as a
# subprocess).
export_dbt_environment(settings)

defs = dg.Definitions(
    assets=[ingest_landing_zone_asset, *DBT_ASSETS, published_reports],
    asset_checks=GREAT_EXPECTATIONS_CHECKS,
    jobs=[campaign_warehouse_job],
    schedules=[nightly_campaign_warehouse],
    sensors=[new_landed_files],
    resources={
        "warehouse": Warehouse(settings),
        "dbt": WarehouseDbtCliResource(
            project_dir=dbt_project, target=dbt_target(settings), dbt_executable=dbt_executable
        ),
    },
)
