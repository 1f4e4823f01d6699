"""Jobs: the whole pipeline, from newly landed files to a publication."""

import dagster as dg

campaign_warehouse_job = dg.define_asset_job(
    name="campaign_warehouse",
    selection=dg.AssetSelection.all(),
    description="Ingest every new file, build and test the dbt models, check, publish.",
)
