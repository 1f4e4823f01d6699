"""Jobs: the whole pipeline, from newly landed files to a publication."""

import dagster as dg

# Runs carrying this tag are limited to one at a time by the run queue (dagster.yaml written by
# orchestration/instance.py): a scheduled, a sensor and a UI run queue instead of colliding.
WRITER_TAG_KEY = "campaign_warehouse/writer"
WRITER_TAG = {WRITER_TAG_KEY: "1"}

# Partitioned (daily, UTC, inferred from the assets) because the incremental facts are; the other
# assets run unpartitioned in the same run. One partition = the nightly run; a partition range =
# one backfill run.
campaign_warehouse_job = dg.define_asset_job(
    name="campaign_warehouse",
    selection=dg.AssetSelection.all(),
    tags=WRITER_TAG,
    description="Ingest every new file, build and test the dbt models (the incremental facts for "
    "the run's days and every newly landed day), check, publish.",
)
