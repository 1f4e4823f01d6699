"""The daily partitions of the incremental facts (UTC days), and the 'last complete day' helpers.

A partition is a UTC calendar day. Nightly runs target yesterday (the last complete day); a
backfill targets a range of days in one run. The window of a run reaches dbt as a row of
`audit.run_window` (orchestration/run_window.py); the incremental facts also rebuild every day
that received newly landed rows, whatever the window (see dbt_project/macros/incremental.sql).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dagster as dg

from orchestration.settings import partitions_start

PARTITION_FORMAT = "%Y-%m-%d"

# No end offset: the last partition at time T is the last *complete* UTC day, i.e. yesterday.
daily_partitions = dg.DailyPartitionsDefinition(
    start_date=partitions_start().strftime(PARTITION_FORMAT),
    timezone="UTC",
    fmt=PARTITION_FORMAT,
)


def first_partition_date() -> date:
    return partitions_start()


def last_complete_partition_key(now: datetime | None = None) -> str | None:
    """Yesterday (UTC) as a partition key, clamped to the partitions; None before the first one."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    yesterday = now.date() - timedelta(days=1)
    if yesterday < first_partition_date():
        return None
    return yesterday.strftime(PARTITION_FORMAT)
