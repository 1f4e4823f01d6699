"""The CLI under the writer lock, and `backfill`: the real CLI, the real job, real dbt builds.

On a copy of the session's end-to-end data directory, one more full pipeline run: a 3-day
`backfill` tried while another process holds the writer lock (exit 3, nothing written), then
retried once the lock is released. The retry is a second run over the same files: it changes
nothing.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time

import dagster as dg
import duckdb
import pytest

from tests.conftest import cli_env, run_cli
from tests.test_writer_lock import HeldLock

pytestmark = pytest.mark.slow

BACKFILL = ("2026-10-10", "2026-10-12")
BACKFILL_ARGS = ["backfill", "--start", BACKFILL[0], "--end", BACKFILL[1], "--json"]
RUNNING = "Running dbt command: "  # dagster-dbt's log line of each dbt invocation


@pytest.fixture(scope="module")
def locked_then_released(tmp_path_factory, pipeline_run, landing_zone):
    """`backfill` while another process holds the writer lock (exit 3), then once released."""
    source_dir, first = pipeline_run
    assert first.returncode == 0, first.stderr[-3000:]
    data_dir = tmp_path_factory.mktemp("locked")
    shutil.copytree(source_dir, data_dir, dirs_exist_ok=True)
    warehouse = data_dir / "warehouse.duckdb"
    before = _digest(warehouse), _marts(warehouse)
    env = cli_env(data_dir, landing_zone) | {"CW_WRITER_LOCK_TIMEOUT_SECONDS": "1"}
    with HeldLock(warehouse) as held:
        started = time.monotonic()
        locked = run_cli(BACKFILL_ARGS, env, timeout=300)
        locked_seconds = time.monotonic() - started
        holder_pid = held.pid
    ran_while_locked = _digest(warehouse) != before[0]
    with dg.DagsterInstance.from_config(str(data_dir / "dagster_home")) as instance:
        runs_before = {run.run_id for run in instance.get_runs()}
    retried = run_cli(BACKFILL_ARGS, env)
    return (
        data_dir,
        runs_before,
        locked,
        locked_seconds,
        holder_pid,
        retried,
        ran_while_locked,
        before[1],
    )


def _digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _marts(warehouse) -> dict[str, list[tuple]]:
    """Every row of every mart, sorted: what a run that changes nothing leaves as it was."""
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        marts = [
            name
            for (name,) in conn.execute(
                "select table_name from information_schema.tables where table_schema = 'marts'"
            ).fetchall()
        ]
        return {
            m: sorted(conn.execute(f"select * from marts.{m}").fetchall(), key=repr) for m in marts
        }


def _record(result) -> dict:
    return json.loads(result.stdout[result.stdout.index("{") :])


def test_run_exits_3_while_another_process_holds_the_writer_lock(locked_then_released):
    data_dir, _, locked, seconds, holder_pid, _, ran_while_locked, _ = locked_then_released
    assert locked.returncode == 3, locked.stdout[-2000:] + locked.stderr[-3000:]
    assert str(data_dir / "warehouse.duckdb.writer.lock") in locked.stderr
    assert f"pid {holder_pid}" in locked.stderr
    assert "retry when it has finished" in locked.stderr
    assert locked.stdout == ""
    assert seconds < 60  # waited the 1 s timeout (plus start-up), not the default 60 s
    assert not ran_while_locked  # nothing ran: the warehouse file is byte-identical


def test_retry_succeeds_once_the_lock_is_released(locked_then_released):
    retried = locked_then_released[5]
    assert retried.returncode == 0, retried.stdout[-2000:] + retried.stderr[-5000:]
    assert _record(retried)["status"] == "published"


def test_a_second_run_over_the_same_files_changes_nothing(locked_then_released):
    data_dir, marts_before = locked_then_released[0], locked_then_released[7]
    assert locked_then_released[5].returncode == 0
    assert _marts(data_dir / "warehouse.duckdb") == marts_before


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-10-12", "2026-10-10", "is after --end"),
        ("2024-12-31", "2025-01-02", "before the first partition 2025-01-01"),
        ("2026-10-10", "2999-01-01", "after the last complete day"),
        ("2026-10-10", "10/12/2026", "YYYY-MM-DD"),
    ],
)
def test_backfill_rejects_bad_ranges(tmp_path, landing_zone, start, end, message):
    env = cli_env(tmp_path / "data", landing_zone)
    result = run_cli(["backfill", "--start", start, "--end", end], env, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert message in result.stderr
    assert not (tmp_path / "data" / "warehouse.duckdb").exists()


def test_backfill_is_one_run_whose_facts_step_gets_the_whole_window(locked_then_released):
    from dagster._core.storage.tags import (
        ASSET_PARTITION_RANGE_END_TAG,
        ASSET_PARTITION_RANGE_START_TAG,
    )

    data_dir, runs_before, result = (locked_then_released[i] for i in (0, 1, 5))
    home = data_dir / "dagster_home"
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-5000:]
    record = _record(result)
    assert record["status"] == "published"
    assert record["partitions"] == {"start": BACKFILL[0], "end": BACKFILL[1]}

    with dg.DagsterInstance.from_config(str(home)) as instance:
        new_runs = [run for run in instance.get_runs() if run.run_id not in runs_before]
        assert len(new_runs) == 1  # one run for the whole range
        (run,) = new_runs
        assert run.run_id == record["run_id"]
        assert run.tags[ASSET_PARTITION_RANGE_START_TAG] == BACKFILL[0]
        assert run.tags[ASSET_PARTITION_RANGE_END_TAG] == BACKFILL[1]
        messages = [(entry.step_key, entry.user_message) for entry in instance.all_logs(run.run_id)]
        # the facts' step gets the whole range as its window (in audit.run_window, not in vars)
        assert ("dbt_staging_and_facts", "run window: 2026-10-10 to 2026-10-13 (excl.)") in messages
        commands = [(step, m) for step, m in messages if m.startswith(RUNNING)]
        assert [step for step, _ in commands] == ["dbt_staging_and_facts", "dbt_models"]
        # the same vars in both dbt processes, and in every run: dbt never re-parses for a window
        assert all("window_start" not in m and "window_end" not in m for _, m in commands)
        # the facts were materialized for every day of the range, in that one run
        materialized = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION
        ).records
        fact_partitions = {
            r.event_log_entry.dagster_event.partition
            for r in materialized
            if r.event_log_entry.dagster_event.asset_key.path[0] == "facts"
        }
        assert fact_partitions == {"2026-10-10", "2026-10-11", "2026-10-12"}
