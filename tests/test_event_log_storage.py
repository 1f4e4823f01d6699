"""The pooled SQLite event log: Dagster's files and tables, readable by Dagster's own storage."""

from __future__ import annotations

import threading

import dagster as dg
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

from orchestration.event_log_storage import RUN_ENGINES_KEPT, PooledSqliteEventLogStorage
from orchestration.instance import (
    PREVIOUS_DAGSTER_YAMLS,
    ensure_dagster_home,
    ensure_dagster_yaml,
    get_instance,
)


@dg.asset
def counted() -> int:
    return 1


@dg.asset_check(asset=counted, blocking=True)
def counted_is_positive() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


def _materialize(instance: dg.DagsterInstance) -> str:
    result = dg.materialize([counted], instance=instance, selection=[counted])
    checks = dg.Definitions(assets=[counted], asset_checks=[counted_is_positive])
    checks.resolve_implicit_global_asset_job_def().execute_in_process(instance=instance)
    return result.run_id


def test_the_instance_writes_events_that_dagsters_own_storage_reads(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    instance = get_instance(tmp_path)
    try:
        assert isinstance(instance.event_log_storage, PooledSqliteEventLogStorage)
        run_id = _materialize(instance)
        home = instance.root_directory
    finally:
        instance.dispose()

    # The stock storage on the same folder sees the same runs, materializations and checks.
    stock = SqliteEventLogStorage(f"{home}/history/runs/")
    try:
        records = stock.get_records_for_run(run_id).records
        assert any(r.event_log_entry.dagster_event_type == "ASSET_MATERIALIZATION" for r in records)
        latest = stock.get_latest_materialization_events([dg.AssetKey("counted")])
        assert latest[dg.AssetKey("counted")] is not None
        check_key = dg.AssetCheckKey(dg.AssetKey("counted"), "counted_is_positive")
        executions = stock.get_asset_check_execution_history(check_key, limit=5)
        assert executions and executions[0].status.value == "SUCCEEDED"
    finally:
        stock.dispose()


def test_an_instance_opened_from_its_folder_writes_there_whatever_dagster_home_says(
    tmp_path, monkeypatch
):
    elsewhere = tmp_path / "elsewhere"
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    home = ensure_dagster_home(tmp_path / "data")  # writes our dagster.yaml, sets DAGSTER_HOME
    monkeypatch.setenv("DAGSTER_HOME", str(elsewhere))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_id = _materialize(instance)
    assert (home / "history" / "runs" / f"{run_id}.db").exists()
    assert not elsewhere.exists()


def test_a_watcher_of_a_run_sees_each_write_as_it_happens(tmp_path):
    """The webserver follows a run by watching its shard's .db file: the pool hides no write."""
    base = tmp_path / "history" / "runs"
    writer = PooledSqliteEventLogStorage(dagster_home=str(tmp_path))
    watcher = SqliteEventLogStorage(str(base))
    seen = threading.Event()
    run_id = "0f0f0f0f-0000-4000-8000-000000000001"
    try:
        writer.store_event(_log_entry(run_id, "first"))  # the shard exists before the watch
        watcher.watch(
            run_id,
            None,
            lambda entry, cursor: seen.set() if entry.user_message == "second" else None,
        )
        writer.store_event(_log_entry(run_id, "second"))
        assert seen.wait(timeout=20), "the watcher never saw the second event"
    finally:
        watcher.dispose()
        writer.dispose()


def test_engines_are_kept_for_the_index_and_a_few_runs_and_wipe_releases_them(tmp_path):
    storage = PooledSqliteEventLogStorage(dagster_home=str(tmp_path))
    try:
        run_ids = [f"0f0f0f0f-0000-4000-8000-{n:012d}" for n in range(RUN_ENGINES_KEPT + 3)]
        for run_id in run_ids:
            storage.store_event(_log_entry(run_id, "hello"))
        kept = [shard for shard in storage._engines if shard != "index"]
        assert kept == run_ids[-RUN_ENGINES_KEPT:]
        assert storage.get_records_for_run(run_ids[0]).records  # an evicted shard still reads

        storage.wipe()
        assert not list((tmp_path / "history" / "runs").glob("0f0f0f0f-*.db"))
        storage.store_event(_log_entry(run_ids[0], "after the wipe"))
        assert [
            r.event_log_entry.user_message for r in storage.get_records_for_run(run_ids[0]).records
        ] == ["after the wipe"]
    finally:
        storage.dispose()


def test_every_earlier_dagster_yaml_of_ours_is_upgraded_to_the_pooled_event_log(tmp_path):
    for number, previous in enumerate(PREVIOUS_DAGSTER_YAMLS):
        home = tmp_path / str(number)
        home.mkdir()
        (home / "dagster.yaml").write_text(previous)
        ensure_dagster_yaml(home)
        assert "class: PooledSqliteEventLogStorage" in (home / "dagster.yaml").read_text()


def _log_entry(run_id: str, message: str):
    import time

    from dagster._core.events.log import EventLogEntry

    return EventLogEntry(
        error_info=None, level=20, user_message=message, run_id=run_id, timestamp=time.time()
    )
