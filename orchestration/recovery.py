"""Heal what a dead run left behind: a run stuck STARTED, its pool slots, its orphaned dbt.

A run whose process is gone (kill -9, an OOM kill, a power cut) never reports its end: Dagster
keeps it STARTED and keeps the slot it claimed in the `duckdb_warehouse_writer` pool, and every
later run waits on that slot forever. Whoever is about to write the warehouse (the CLI, holding
the writer lock) first looks for such runs: a run whose process (the CLI's pid, tagged on the run,
or the run worker's pid that Dagster logs when it starts a run) no longer exists is marked failed,
its pool slots are freed, and a dbt subprocess still working for it is stopped. The same check is
the run launcher's health check, so the daemon's run monitoring heals runs it did not start.

Linux only (it reads /proc), like the rest of the deployment.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
from dagster._core.launcher import CheckRunHealthResult, DefaultRunLauncher, WorkerStatus
from dagster._core.storage.dagster_run import DagsterRun, DagsterRunStatus, RunsFilter

from orchestration.console import notice
from orchestration.settings import DBT_RUN_ID_VARIABLE

log = logging.getLogger(__name__)

# Tags the CLI puts on its runs: the process executing the run, and where.
PID_TAG = "campaign_warehouse/pid"
HOST_TAG = "campaign_warehouse/host"
# What dagster logs when a run worker starts: "Started process for run (pid: 1234)."
RUN_WORKER_STARTED = "Started process for run"

UNFINISHED = [DagsterRunStatus.STARTING, DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]
# A pid is only the run's process if that process started before the run was created.
CLOCK_TOLERANCE_SECONDS = 2.0


def process_tags() -> dict[str, str]:
    """Tags that let a later run tell whether this process is still alive."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _boot_time() -> float:
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith("btime "):
            return float(line.split()[1])
    raise OSError("no btime in /proc/stat")


def process_start_time(pid: int) -> float | None:
    """Epoch seconds when `pid` started; None when there is no such (live) process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) "
    if fields[0] in ("Z", "X"):  # a zombie has exited
        return None
    return _boot_time() + int(fields[19]) / os.sysconf("SC_CLK_TCK")


def process_alive(pid: int, started_before: float | None = None) -> bool:
    """Whether `pid` runs and (when given) started before `started_before`: not a reused pid."""
    started = process_start_time(pid)
    if started is None:
        return False
    return started_before is None or started <= started_before + CLOCK_TOLERANCE_SECONDS


def run_process_id(instance: dg.DagsterInstance, run: DagsterRun) -> int | None:
    """The pid executing `run`: the CLI's tag, else the run worker Dagster logged, else None."""
    if run.tags.get(PID_TAG):
        if run.tags.get(HOST_TAG, socket.gethostname()) != socket.gethostname():
            return None  # another machine's process: not ours to judge
        return int(run.tags[PID_TAG])
    records = instance.get_records_for_run(
        run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50
    ).records
    for record in records:
        entry = record.event_log_entry
        if entry.dagster_event and (entry.dagster_event.message or "").startswith(
            RUN_WORKER_STARTED
        ):
            pid = entry.dagster_event.event_specific_data.metadata.get("pid")
            return int(getattr(pid, "value", pid)) if pid is not None else None
    return None


def run_process_gone(instance: dg.DagsterInstance, run: DagsterRun) -> bool | None:
    """True when the run's process is gone, False when it runs, None when we cannot tell."""
    pid = run_process_id(instance, run)
    if pid is None:
        return None
    record = instance.get_run_record_by_id(run.run_id)
    created = record.create_timestamp.timestamp() if record else None
    return not process_alive(pid, started_before=created)


def dbt_processes() -> dict[int, str]:
    """Live dbt subprocesses of Dagster runs (pid -> run id): the run id is in their environment
    (DBT_RUN_ID_VARIABLE, set by orchestration/assets/dbt.py)."""
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            environ = (proc / "environ").read_bytes()
        except OSError:
            continue
        prefix = f"{DBT_RUN_ID_VARIABLE}=".encode()
        for variable in environ.split(b"\0"):
            if variable.startswith(prefix):
                found[int(proc.name)] = os.fsdecode(variable.removeprefix(prefix))
                break
    return found


def processes_of_run(run_id: str) -> list[int]:
    return [pid for pid, owner in dbt_processes().items() if owner == run_id]


def stop_processes(pids: list[int], grace_seconds: float = 3.0) -> None:
    """SIGTERM, then SIGKILL whatever still runs after `grace_seconds`."""
    for pid in pids:
        with _gone_is_fine():
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_seconds
    while time.monotonic() < deadline and any(process_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        if process_alive(pid):
            with _gone_is_fine():
                os.kill(pid, signal.SIGKILL)


class _gone_is_fine:  # noqa: N801 - used as a context manager
    def __enter__(self):
        return self

    def __exit__(self, kind, value, traceback):
        return kind is ProcessLookupError


def fail_run(instance: dg.DagsterInstance, run_id: str, reason: str) -> int:
    """Mark `run_id` failed (unless it finished), stop its dbt, free its pool slots.

    Returns the number of processes stopped.
    """
    run = instance.get_run_by_id(run_id)
    stopped = processes_of_run(run_id)
    if stopped:
        stop_processes(stopped)
    if run is not None and not run.is_finished:
        instance.report_run_failed(run, reason)
    free_slots(instance, run_id)
    return len(stopped)


def free_slots(instance: dg.DagsterInstance, run_id: str) -> None:
    if instance.event_log_storage.supports_global_concurrency_limits:
        instance.event_log_storage.free_concurrency_slots_for_run(run_id)


def recover_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Fail every unfinished run whose process is gone and free its slots; the runs recovered.

    Also frees the slots still held by finished runs (a run marked failed from outside keeps
    them until somebody frees them). Logs one line per recovered run.
    """
    recovered = []
    statuses = [*UNFINISHED, DagsterRunStatus.NOT_STARTED]
    for record in instance.get_run_records(filters=RunsFilter(statuses=statuses)):
        run = record.dagster_run
        if run.status == DagsterRunStatus.NOT_STARTED and PID_TAG not in run.tags:
            continue  # queued for the daemon: no process yet
        if not run_process_gone(instance, run):
            continue
        pid = run_process_id(instance, run)
        reason = (
            f"its process (pid {pid}) is gone: the run was killed or crashed; marked failed by "
            f"campaign-warehouse (pid {os.getpid()}), which freed its warehouse writer slots"
        )
        stopped = fail_run(instance, run.run_id, f"Run {run.run_id} {reason}.")
        extra = f"; stopped {stopped} dbt process(es) still working for it" if stopped else ""
        log.warning("recovered dead run %s (%s): %s%s", run.run_id, run.job_name, reason, extra)
        recovered.append(run.run_id)
    # dbt outliving its run (its parent was killed, or stopped between our check and its start)
    # keeps the warehouse file locked: stop it.
    for pid, run_id in dbt_processes().items():
        run = instance.get_run_by_id(run_id)
        if run is not None and run.is_finished:
            log.warning("stopping dbt (pid %s) still working for finished run %s", pid, run_id)
            stop_processes([pid])
    if instance.event_log_storage.supports_global_concurrency_limits:
        for run_id in instance.event_log_storage.get_concurrency_run_ids():
            run = instance.get_run_by_id(run_id)
            if run is None or run.is_finished:
                free_slots(instance, run_id)
    return recovered


class WarehouseRunLauncher(DefaultRunLauncher):
    """Dagster's default launcher, plus a health check: is the run worker's process alive?

    With `run_monitoring` enabled (dagster.yaml written by orchestration/instance.py), the daemon
    asks it about every STARTED run and marks failed those whose process is gone (a killed run
    worker, a killed CLI run); `free_slots_after_run_end_seconds` then frees their pool slots.
    """

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: DagsterRun) -> CheckRunHealthResult:
        gone = run_process_gone(self._instance, run)
        if gone:
            pid = run_process_id(self._instance, run)
            return CheckRunHealthResult(WorkerStatus.FAILED, f"process {pid} of the run is gone")
        # Alive, or not ours to judge (no pid yet, another host): report it running.
        return CheckRunHealthResult(WorkerStatus.RUNNING)


@contextlib.contextmanager
def guarded_cli_run(instance: dg.DagsterInstance, run_id: str, lock_file: Path) -> Iterator[dict]:
    """Around a CLI run, holding the writer lock: recover dead runs first; on SIGINT/SIGTERM,
    fail this run (its dbt stopped, its slots freed) and exit (orchestration/stop_signals.py).

    Yields the tags the run must carry so that a later run can tell whether it is still alive.
    """
    from orchestration.stop_signals import stopper

    recovered = recover_dead_runs(instance)
    if recovered:
        notice(
            f"recovered {len(recovered)} dead run(s) ({', '.join(recovered)}): marked failed, "
            "their warehouse writer slots freed"
        )

    def stop(signum: int) -> None:
        name = signal.Signals(signum).name
        with dg.DagsterInstance.get() as fresh:  # the main thread may be using `instance`
            fail_run(fresh, run_id, f"Run {run_id} stopped by {name}; nothing was published.")
        notice(
            f"campaign-warehouse: run {run_id} stopped by {name} and marked failed; nothing was "
            "published (the previous publication is unchanged)"
        )

    stopper.cleanup, stopper.lock_file = stop, str(lock_file)
    try:
        yield process_tags()
    finally:
        stopper.cleanup, stopper.lock_file = None, None
