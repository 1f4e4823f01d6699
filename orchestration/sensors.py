"""`new_landed_files`: run the pipeline when files land, without waiting for the nightly run.

The sensor lists the landing zone the way ingestion does (`ingestion.discovery.feed_files`: feed
folders only, `.*`/`_*` ignored) without reading the files, and compares it with its cursor: the
relative path, size and mtime of every file it has seen. A file that is new, or whose size or mtime
changed, triggers one run of `campaign_warehouse` for the last complete UTC day (the facts also
rebuild every day the new files hold); files already seen never trigger again. Upload files under
a `.`/`_` name and rename them when complete, so a half-written file is not picked up.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from ingestion import FEEDS
from ingestion.discovery import feed_files
from orchestration.jobs import campaign_warehouse_job
from orchestration.partitions import last_complete_partition_key
from orchestration.resources import WarehouseResource

CURSOR_VERSION = 1
NEW_FILES_TAG = "campaign_warehouse/new_files"


def landed_file_states(landing_dir: Path) -> dict[str, list[int]]:
    """Relative path -> [size in bytes, mtime in ns] of every landed file of every feed."""
    landing_dir = Path(landing_dir)
    states: dict[str, list[int]] = {}
    for feed in FEEDS:
        for path in feed_files(landing_dir, feed):
            try:
                stat = path.stat()
            except FileNotFoundError:  # moved away while listing
                continue
            states[path.relative_to(landing_dir).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return states


def parse_cursor(cursor: str | None) -> dict[str, list[int]]:
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except ValueError:
        return {}
    if not isinstance(data, dict) or data.get("v") != CURSOR_VERSION:
        return {}
    return {path: list(state) for path, state in data.get("files", {}).items()}


def dump_cursor(states: dict[str, list[int]]) -> str:
    return json.dumps({"v": CURSOR_VERSION, "files": states}, sort_keys=True, separators=(",", ":"))


def new_files(seen: dict[str, list[int]], current: dict[str, list[int]]) -> list[str]:
    """Files not seen before, or whose size or mtime changed since."""
    return sorted(path for path, state in current.items() if seen.get(path) != state)


@dg.sensor(
    name="new_landed_files",
    job=campaign_warehouse_job,
    minimum_interval_seconds=60,
    # STOPPED by default, like the nightly schedule: see README "Scheduling, partitions and
    # backfills". Turn it on in the UI (Automation) or with `dagster sensor start`.
    default_status=dg.DefaultSensorStatus.STOPPED,
    description="One run of campaign_warehouse for yesterday (UTC) when new files land.",
)
def new_landed_files(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    landing_dir = warehouse.settings.landing_dir
    seen = parse_cursor(context.cursor)
    current = landed_file_states(landing_dir)
    fresh = new_files(seen, current)
    if not fresh:
        # Keep the cursor in step with removed files, so it does not grow with archived ones.
        return dg.SensorResult(
            skip_reason=dg.SkipReason(f"no new files in {landing_dir}"),
            cursor=dump_cursor(current) if current != seen else context.cursor,
        )
    partition_key = last_complete_partition_key(datetime.now(UTC))
    if partition_key is None:
        # No complete day yet (CW_PARTITIONS_START is today or later): wait, keep the cursor.
        return dg.SkipReason(
            f"{len(fresh)} new file(s), but no complete daily partition yet (CW_PARTITIONS_START)"
        )
    digest = hashlib.sha256()
    for path in fresh:
        size, mtime_ns = current[path]
        digest.update(f"{path}\0{size}\0{mtime_ns}\n".encode())
    context.log.info(f"{len(fresh)} new file(s), e.g. {', '.join(fresh[:5])}")
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                run_key=f"landed-{digest.hexdigest()[:20]}",
                partition_key=partition_key,
                tags={NEW_FILES_TAG: str(len(fresh))},
            )
        ],
        cursor=dump_cursor(current),
    )
