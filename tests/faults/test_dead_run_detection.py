"""A dead run's pool slot is freed: the mechanics of orchestration/recovery.py on a real Dagster
instance (the pipeline-level proof is test_run_recovery.py), in seconds."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time

import dagster as dg
import pytest
from dagster._core.instance.ref import InstanceRef
from dagster._core.launcher import WorkerStatus

from orchestration.instance import ensure_dagster_yaml
from orchestration.recovery import PID_TAG, WarehouseRunLauncher, recover_dead_runs
from tests.conftest import REPO

# A run in the pool `writer` (limit 1) whose step holds its slot until the process is killed.
HOLDER = textwrap.dedent(
    """
    import sys, time
    import dagster as dg
    from dagster._core.instance.ref import InstanceRef
    from orchestration.recovery import process_tags

    @dg.op(pool="writer")
    def hold_the_slot():
        print("holding", flush=True)
        time.sleep(600)

    @dg.job
    def holder():
        hold_the_slot()

    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(sys.argv[1])) as instance:
        holder.execute_in_process(instance=instance, tags=process_tags(), raise_on_error=False)
    """
)


@dg.op(pool="writer")
def write_something():
    return 1


@dg.job
def writer():
    write_something()


@pytest.fixture
def instance(tmp_path):
    ensure_dagster_yaml(tmp_path)
    with dg.DagsterInstance.from_ref(InstanceRef.from_dir(str(tmp_path))) as instance:
        yield instance


def _killed_run_holding_the_slot(instance, home) -> dg.DagsterRun:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "holding"
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    (run,) = instance.get_runs(filters=dg.RunsFilter(tags={PID_TAG: str(process.pid)}))
    return run


def test_a_killed_runs_slot_is_freed_and_the_run_marked_failed(instance, tmp_path):
    run = _killed_run_holding_the_slot(instance, tmp_path)
    assert run.status == dg.DagsterRunStatus.STARTED  # the fault: nobody reports its end
    assert instance.event_log_storage.get_concurrency_info("writer").active_run_ids == {run.run_id}
    assert isinstance(instance.run_launcher, WarehouseRunLauncher)
    health = instance.run_launcher.check_run_worker_health(run)
    assert health.status == WorkerStatus.FAILED  # what run monitoring asks the launcher

    assert recover_dead_runs(instance) == [run.run_id]

    assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.FAILURE
    assert not instance.event_log_storage.get_concurrency_info("writer").active_run_ids
    started = time.monotonic()
    assert writer.execute_in_process(instance=instance).success  # not blocked by the dead run
    assert time.monotonic() - started < 60
    assert recover_dead_runs(instance) == []  # nothing left to recover


def test_a_live_run_is_left_alone(instance):
    live = writer.execute_in_process(instance=instance, tags={PID_TAG: "1"}, raise_on_error=False)
    run = instance.get_run_by_id(live.run_id)
    # Finished runs are never touched; an unfinished one whose pid runs (pid 1 started before
    # any run) is healthy.
    assert recover_dead_runs(instance) == []
    assert instance.run_launcher.check_run_worker_health(run).status == WorkerStatus.RUNNING
