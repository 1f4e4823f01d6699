"""The one Dagster `Definitions` of Campaign Warehouse (loaded by `dagster dev`, `dg`, the CLI)."""

from __future__ import annotations

import os

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.assets.checks import great_expectations_checks
from orchestration.assets.dbt import campaign_warehouse_dbt_models, dbt_executable, dbt_project
from orchestration.assets.ingestion import ingest_landing_zone_asset
from orchestration.assets.publish import published_reports
from orchestration.jobs import campaign_warehouse_job
from orchestration.resources import WarehouseResource
from orchestration.settings import Settings

settings = Settings.from_env()
# dbt's profile reads the warehouse path from the environment (dbt runs as a subprocess).
os.environ.setdefault("CW_WAREHOUSE_PATH", str(settings.warehouse_path))

warehouse = WarehouseResource.from_settings(settings)

defs = dg.Definitions(
    assets=[ingest_landing_zone_asset, campaign_warehouse_dbt_models, published_reports],
    asset_checks=[great_expectations_checks],
    jobs=[campaign_warehouse_job],
    resources={
        "warehouse": warehouse,
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable),
    },
)
