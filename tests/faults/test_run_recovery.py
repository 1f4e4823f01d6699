"""Killed and stopped runs never block later runs, and never touch what BI reads (issue 10, 1-2).

One sequence on one small landing zone, sharing its builds (the tests run in file order):
publish two landed days; land the third; then runs killed with SIGKILL during ingestion, stopped
with SIGTERM during dbt, killed during dbt (its dbt subprocess outlives it) and killed during the
publication; then a run that recovers all of them and publishes, with every landed row accounted
for exactly once. Until that run, `reports.duckdb` holds the first publication unchanged. Three
receipts of 9,999,999,999,999,999.99, loaded into raw beside the third day, must not make dbt
fail (sums wider than DECIMAL(18,2)); a dbt model that does fail is named with dbt's error.
"""

from __future__ import annotations

import signal
import time

import duckdb
import pytest

from orchestration.recovery import process_alive, processes_of_run
from orchestration.warehouse_lock import warehouse_writer_lock, writer_lock_path
from tests.faults.conftest import (
    RERUN_TIMEOUT_SECONDS,
    assert_exact_accounting,
    continued_from,
    day_folders,
    kill,
    land_days,
    marts_fingerprint,
)

pytestmark = pytest.mark.slow

HUGE = "9999999999999999.99"  # a valid DECIMAL(18,2); three of them overflow it
INJECTED_FILE = "injected-by-test_run_recovery"
PUBLISH_STEP = "published__reports"


@pytest.fixture(scope="module")
def state() -> dict:
    return {}


def _run_status(pipeline, run_id: str):
    with pipeline.instance() as instance:
        return instance.get_run_by_id(run_id).status.value


def _slots_held_by(pipeline, run_id: str) -> bool:
    with pipeline.instance() as instance:
        return run_id in instance.event_log_storage.get_concurrency_run_ids() or any(
            slot.run_id == run_id
            for pool in instance.event_log_storage.get_concurrency_keys()
            for slot in instance.event_log_storage.get_concurrency_info(pool).claimed_slots
        )


@pytest.fixture(scope="module")
def pipeline(published, tmp_path_factory):
    return continued_from(published, tmp_path_factory.mktemp("recovery"))


def test_first_publication(pipeline, state):
    state["published"] = marts_fingerprint(pipeline.reports)
    state["runs"] = []


def _inject_huge_receipts(warehouse) -> None:
    """Three attributed receipts of 9,999,999,999,999,999.99 each (and balanced lines)."""
    with duckdb.connect(str(warehouse)) as conn:
        (receipt_id,) = conn.execute(
            "select purchases.source_id from intermediate.int_mailing_purchases as attributed "
            "join facts.fct_purchases as purchases using (purchase_key) "
            "where attributed.purchase_source = 'pos' and attributed.is_purchase "
            "and attributed.attribution is not null limit 1"
        ).fetchone()
        for n in range(1, 4):
            new_id = f"{receipt_id}-huge-{n}"
            conn.execute(
                f"insert into raw.receipts by name select * replace ("
                f"  ? as receipt_id, {HUGE}::decimal(18, 2) as total_amount,"
                f"  md5(?) as _record_hash, '{INJECTED_FILE}' as _file_hash,"
                f"  {n} as _row_number, now()::timestamp as _ingested_at)"
                f" from raw.receipts where receipt_id = ? limit 1",
                [new_id, new_id, receipt_id],
            )
            conn.execute(
                f"insert into raw.receipt_lines by name select * replace ("
                f"  ? as receipt_id, 1 as line_number, {HUGE}::decimal(18, 2) as amount,"
                f"  md5(? || '-line') as _record_hash, '{INJECTED_FILE}' as _file_hash,"
                f"  {n} as _row_number, now()::timestamp as _ingested_at)"
                f" from raw.receipt_lines where receipt_id = ? limit 1",
                [new_id, new_id, receipt_id],
            )


def test_sigkill_during_ingestion_leaves_the_publication(pipeline, generated_landing, state):
    _inject_huge_receipts(pipeline.warehouse)
    land_days(generated_landing, pipeline.landing, day_folders(generated_landing)[2:])
    process = pipeline.start()
    run_id = pipeline.wait_for_step(process, "ingest_landing_zone")
    kill(process)
    state["runs"].append(run_id)
    assert _run_status(pipeline, run_id) == "STARTED"  # the fault: Dagster never hears of it
    assert marts_fingerprint(pipeline.reports) == state["published"]


def test_sigterm_stops_a_run_within_seconds_and_releases_the_lock(pipeline, state):
    process = pipeline.start()
    run_id = pipeline.wait_for_step(process, "dbt_staging_and_facts", timeout=RERUN_TIMEOUT_SECONDS)
    deadline = time.monotonic() + 120
    while not processes_of_run(run_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_of_run(run_id), "dbt did not start"
    started = time.monotonic()
    stderr = kill(process, signal.SIGTERM)
    stopped_after = time.monotonic() - started

    assert stopped_after < 10, f"took {stopped_after:.1f}s to stop"
    assert process.returncode == 128 + signal.SIGTERM
    assert "stopped by SIGTERM" in stderr
    # It recovered the run killed during ingestion before it started its own.
    assert f"recovered 1 dead run(s) ({state['runs'][0]})" in stderr
    assert _run_status(pipeline, state["runs"][0]) == "FAILURE"
    assert _run_status(pipeline, run_id) == "FAILURE"
    assert not _slots_held_by(pipeline, run_id)
    assert not processes_of_run(run_id), "dbt outlived the stopped run"
    assert writer_lock_path(pipeline.warehouse).read_text() == ""
    with warehouse_writer_lock(pipeline.warehouse, timeout=0):
        pass  # free at once
    assert marts_fingerprint(pipeline.reports) == state["published"]


def test_sigkill_during_dbt_leaves_the_publication(pipeline, state):
    process = pipeline.start()
    run_id = pipeline.wait_for_step(process, "dbt_models")
    deadline = time.monotonic() + 120
    while not processes_of_run(run_id) and time.monotonic() < deadline:
        time.sleep(0.05)
    stderr = kill(process)
    assert "recovered" not in stderr  # the run stopped by SIGTERM cleaned up after itself
    state["runs"].append(run_id)
    state["orphans"] = processes_of_run(run_id)  # dbt goes on without its parent
    assert _run_status(pipeline, run_id) == "STARTED"
    assert marts_fingerprint(pipeline.reports) == state["published"]


def test_sigkill_during_publication_leaves_the_publication(pipeline, state):
    process = pipeline.start()
    run_id = pipeline.wait_for_step(process, PUBLISH_STEP, timeout=RERUN_TIMEOUT_SECONDS)
    staged = pipeline.reports.parent.glob(".reports-*.tmp")
    deadline = time.monotonic() + 120
    while not any(True for _ in staged) and time.monotonic() < deadline:
        time.sleep(0.005)
        staged = pipeline.reports.parent.glob(".reports-*.tmp")
    # Freeze it while the new publication is being written, check, then kill it.
    process.send_signal(signal.SIGSTOP)
    assert any(pipeline.reports.parent.glob(".reports-*.tmp")), "publication never started"
    assert marts_fingerprint(pipeline.reports) == state["published"]
    stderr = kill(process)
    assert f"recovered 1 dead run(s) ({state['runs'][-1]})" in stderr  # killed during dbt
    assert not any(process_alive(pid) for pid in state["orphans"]), "its dbt still runs"
    state["runs"].append(run_id)
    assert marts_fingerprint(pipeline.reports) == state["published"]


def test_next_run_recovers_every_dead_run_and_publishes(pipeline, generated_landing, state):
    result = pipeline.run(timeout=RERUN_TIMEOUT_SECONDS)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert f"recovered 1 dead run(s) ({state['runs'][-1]})" in result.stderr  # at publication
    assert result.seconds < RERUN_TIMEOUT_SECONDS
    for run_id in state["runs"]:
        assert _run_status(pipeline, run_id) == "FAILURE"
        assert not _slots_held_by(pipeline, run_id)
    assert not list(pipeline.reports.parent.glob(".reports-*.tmp"))  # leftovers cleaned

    assert marts_fingerprint(pipeline.reports) != state["published"]
    assert_exact_accounting(
        pipeline.warehouse, pipeline.landing, ignore_files=frozenset({INJECTED_FILE})
    )
    # The huge receipts add up in marts wider than DECIMAL(18,2) instead of failing dbt.
    with duckdb.connect(str(pipeline.reports), read_only=True) as conn:
        (top,) = conn.execute("select max(revenue) from mart_group_lift").fetchone()
    assert top >= 3 * float(HUGE)


def test_a_failing_dbt_model_is_named_with_its_error(pipeline, state):
    published = marts_fingerprint(pipeline.reports)
    pipeline.env["CW_REPORTING_TIMEZONE"] = "Mars/Olympus_Mons"  # dbt fails converting to it
    try:
        result = pipeline.run(timeout=RERUN_TIMEOUT_SECONDS)
    finally:
        del pipeline.env["CW_REPORTING_TIMEZONE"]
    assert result.returncode == 1
    failures = [line for line in result.stdout.splitlines() if "failed: model " in line]
    assert failures, result.stdout
    assert all("Mars/Olympus_Mons" in line for line in failures), failures
    assert marts_fingerprint(pipeline.reports) == published
