"""The nightly schedule: the whole pipeline for the last complete UTC day."""

import dagster as dg

from orchestration.jobs import campaign_warehouse_job
from orchestration.settings import nightly_hour

# STOPPED by default: starting `dagster dev` on a laptop or a demo must not write the warehouse
# on its own. Turn it on once in the UI (Automation) or with `dagster schedule start`; the
# instance remembers it.
_DESCRIPTION = (
    "Every night at CW_NIGHTLY_HOUR (UTC): ingest, build the facts for yesterday (UTC) and every "
    "newly landed day, check, publish."
)
nightly_campaign_warehouse = dg.build_schedule_from_partitioned_job(
    campaign_warehouse_job,
    name="nightly_campaign_warehouse",
    description=_DESCRIPTION,
    hour_of_day=nightly_hour(),
    minute_of_hour=0,
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
