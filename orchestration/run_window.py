"""The run's window for dbt: a row of `audit.run_window`, not dbt vars.

A daily partition (or a backfill's range) tells the incremental facts which days to rebuild. Passed
as `--vars`, it would change on every run, and dbt re-parses the whole project whenever its vars
change (several seconds, every run). So the dbt step writes the window to `audit.run_window` just
before it runs dbt and deletes it after; the facts' macros read it in SQL
(`dbt_project/macros/incremental.sql`, `run_window_bounds`), and the vars stay the same from run to
run, so dbt's partial parsing reuses the last parse. No row means no window: a dbt build by hand
(or a run without a partition) rebuilds only the days that received newly landed rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import dagster as dg
import duckdb

from orchestration.partitions import daily_partitions

RUN_WINDOW_TABLE = "audit.run_window"


@dataclass(frozen=True)
class RunWindow:
    """The days a run targets: [start, end), UTC dates."""

    start: date
    end: date

    def describe(self) -> str:
        return f"{self.start} to {self.end} (excl.)"


def run_window_of(context: dg.AssetExecutionContext) -> RunWindow | None:
    """The window of the run's partition or partition range; None when the run has none.

    Read from the run's tags (`dagster/partition`, or the range tags a single-run backfill sets), so
    every step of a partitioned run sees the same window.
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
    return RunWindow(start.date(), end.date())


def write_run_window(con: duckdb.DuckDBPyConnection, run_id: str, window: RunWindow | None) -> None:
    """Make `audit.run_window` hold this run's window (one row), or nothing when it has none."""
    con.execute("create schema if not exists audit")
    con.execute(
        f"""
        create table if not exists {RUN_WINDOW_TABLE} (
            run_id varchar not null,
            window_start date not null,  -- inclusive
            window_end date not null,  -- exclusive
            written_at timestamp not null
        )
        """
    )
    con.execute("begin")
    con.execute(f"delete from {RUN_WINDOW_TABLE}")
    if window is not None:
        con.execute(
            f"insert into {RUN_WINDOW_TABLE} values (?, ?, ?, current_timestamp)",
            [run_id, window.start, window.end],
        )
    con.execute("commit")


def clear_run_window(con: duckdb.DuckDBPyConnection) -> None:
    """Forget the window once dbt is done, so a later dbt build by hand does not reuse it."""
    con.execute(f"delete from {RUN_WINDOW_TABLE}")
