"""The nightly schedule and the landed-files sensor, evaluated with real Dagster contexts."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from orchestration.jobs import WRITER_TAG_KEY
from orchestration.resources import Warehouse
from orchestration.settings import Settings


def _defs():
    from orchestration.definitions import defs

    return defs


def _yesterday_utc() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


def test_nightly_schedule_is_registered_on_the_job_and_stopped_by_default():
    schedule = _defs().resolve_schedule_def("nightly_campaign_warehouse")
    assert schedule.job_name == "campaign_warehouse"
    assert schedule.cron_schedule == "0 2 * * *"
    assert schedule.execution_timezone in (None, "UTC")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED


@pytest.mark.parametrize(
    ("tick", "partition"),
    [
        (datetime(2026, 10, 6, 2, 0, tzinfo=UTC), "2026-10-05"),
        (datetime(2026, 1, 1, 2, 0, tzinfo=UTC), "2025-12-31"),
    ],
)
def test_nightly_tick_requests_yesterdays_partition(tick, partition):
    schedule = _defs().resolve_schedule_def("nightly_campaign_warehouse")
    with (
        dg.instance_for_test() as instance,
        dg.build_schedule_context(instance=instance, scheduled_execution_time=tick) as context,
    ):
        data = schedule.evaluate_tick(context)
    (request,) = data.run_requests
    assert request.partition_key == partition
    # the job's tags (the run-queue writer tag) are on every run the schedule launches
    job = _defs().resolve_job_def("campaign_warehouse")
    assert job.tags[WRITER_TAG_KEY] == "1"


def test_nightly_hour_comes_from_the_environment():
    from orchestration.settings import nightly_hour

    assert nightly_hour({}) == 2
    assert nightly_hour({"CW_NIGHTLY_HOUR": "23"}) == 23
    with pytest.raises(ValueError, match="CW_NIGHTLY_HOUR"):
        nightly_hour({"CW_NIGHTLY_HOUR": "24"})


def _land(landing: Path, rel: str, text: str = '{"a": 1}\n') -> Path:
    path = landing / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def _evaluate(landing: Path, instance, cursor: str | None):
    sensor = _defs().resolve_sensor_def("new_landed_files")
    warehouse = Warehouse(
        Settings(landing_dir=landing, data_dir=landing.parent / "data", pii_hash_key="test")
    )
    with dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"warehouse": warehouse},
        definitions=_defs(),
    ) as context:
        return sensor.evaluate_tick(context)


def test_sensor_is_registered_and_stopped_by_default():
    sensor = _defs().resolve_sensor_def("new_landed_files")
    assert sensor.job_name == "campaign_warehouse"
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED


def test_sensor_triggers_once_per_new_file(tmp_path):
    landing = tmp_path / "landing"
    _land(landing, "sendgrid/2026-10-01/a.ndjson")
    _land(landing, "receipts/2026-10-01/r.csv", "receipt_id\nR1\n")
    _land(landing, "sendgrid/2026-10-01/_partial.ndjson")  # ignored like ingestion ignores it
    _land(landing, "sendgrid/2026-10-01/.upload.tmp")  # ignored
    _land(landing, "_generator_manifest.json")  # top level: never read
    _land(landing, "unknown_feed/x.csv")  # not a feed folder

    with dg.instance_for_test() as instance:
        first = _evaluate(landing, instance, None)
        (request,) = first.run_requests
        assert request.partition_key == _yesterday_utc()
        assert request.tags["campaign_warehouse/new_files"] == "2"
        assert set(json.loads(first.cursor)["files"]) == {
            "sendgrid/2026-10-01/a.ndjson",
            "receipts/2026-10-01/r.csv",
        }

        # nothing new: no retrigger, and the cursor stays
        second = _evaluate(landing, instance, first.cursor)
        assert second.run_requests == [] or second.run_requests is None
        assert "no new files" in second.skip_message
        assert json.loads(second.cursor) == json.loads(first.cursor)

        # one new file: triggers again, and only the new file counts
        _land(landing, "sendgrid/2026-10-02/b.ndjson")
        third = _evaluate(landing, instance, second.cursor)
        (request3,) = third.run_requests
        assert request3.tags["campaign_warehouse/new_files"] == "1"
        assert request3.run_key != request.run_key
        assert request3.partition_key == _yesterday_utc()

        # a file rewritten in place (new size) counts as new; an unchanged one never does
        _land(landing, "receipts/2026-10-01/r.csv", "receipt_id\nR1\nR2\n")
        fourth = _evaluate(landing, instance, third.cursor)
        (request4,) = fourth.run_requests
        assert request4.tags["campaign_warehouse/new_files"] == "1"

        # a removed file does not trigger; the cursor forgets it
        os.remove(landing / "sendgrid/2026-10-01/a.ndjson")
        fifth = _evaluate(landing, instance, fourth.cursor)
        assert not fifth.run_requests
        assert "sendgrid/2026-10-01/a.ndjson" not in json.loads(fifth.cursor)["files"]


def test_sensor_skips_an_empty_or_missing_landing_zone(tmp_path):
    with dg.instance_for_test() as instance:
        data = _evaluate(tmp_path / "missing", instance, None)
    assert not data.run_requests
    assert "no new files" in data.skip_message


def test_last_complete_partition_is_clamped_to_the_partitions():
    from orchestration.partitions import daily_partitions, last_complete_partition_key
    from orchestration.settings import partitions_start

    first = partitions_start()
    start_of_first = datetime(first.year, first.month, first.day, tzinfo=UTC)
    assert last_complete_partition_key(start_of_first + timedelta(hours=5)) is None
    assert last_complete_partition_key(start_of_first + timedelta(days=1)) == first.isoformat()
    assert daily_partitions.get_first_partition_key() == first.isoformat()
    assert daily_partitions.timezone == "UTC"
