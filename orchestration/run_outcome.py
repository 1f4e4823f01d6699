"""What a finished run amounts to: published, or refused with the reasons, always recorded."""

from __future__ import annotations

import json

import dagster as dg

from data_checks.gate import CheckOutcome, refusal_reason
from orchestration.publish_postgres import PostgresPublicationError, postgres_mirror
from orchestration.publishing import (
    PublicationRecord,
    new_version,
    publish_refusal,
    record_publication,
)
from orchestration.run_checks import decide_for_run
from orchestration.settings import Settings
from orchestration.step_failures import describe_failed_steps
from orchestration.storage_faults import fault_from_exception, fault_from_texts
from orchestration.warehouse_lock import connect_warehouse


def _recorded_publication(settings: Settings, run_id: str) -> dict | None:
    if not settings.warehouse_path.exists():
        return None
    with connect_warehouse(settings.warehouse_path) as conn:
        exists = conn.execute(
            "select count(*) from duckdb_tables() "
            "where schema_name = 'audit' and table_name = 'publications'"
        ).fetchone()[0]
        if not exists:
            return None
        row = conn.execute(
            "select version, status, reason, row_counts, checks from audit.publications "
            "where run_id = ? order by recorded_at desc limit 1",
            [run_id],
        ).fetchone()
    if row is None:
        return None
    version, status, reason, row_counts, checks = row
    return {
        "run_id": run_id,
        "version": version,
        "status": status,
        "reason": reason,
        "row_counts": json.loads(row_counts or "{}"),
        "checks": json.loads(checks or "[]"),
    }


def conclude_run(
    instance: dg.DagsterInstance, run_id: str, settings: Settings, defs: dg.Definitions
) -> tuple[int, dict]:
    """Exit code and publication record of `run_id`; record a refusal if the run left none.

    Raises WarehouseStorageError (with the operator's guidance) when a step failed on a damaged
    warehouse or a full disk: then the warehouse may not even take the refusal's record.
    """
    step_failures, error_texts = describe_failed_steps(instance, run_id)
    fault = fault_from_texts(error_texts, settings)
    if fault is not None:
        raise fault
    try:
        publication = _recorded_publication(settings, run_id)
    except Exception as error:
        raise fault_from_exception(error, settings) or error from error
    if publication is None:
        # The publish step never ran (an upstream step failed, or Dagster skipped it): the run
        # did not publish, and the refusal is recorded with everything that went wrong.
        decision = decide_for_run(instance, run_id, defs.resolve_asset_graph())
        failures = step_failures + decision.failures
        record = PublicationRecord(
            version=new_version(run_id),
            run_id=run_id,
            status="refused",
            reason=refusal_reason(decision, step_failures)
            if failures
            else "the publish step did not run",
            checks=[outcome.as_dict() for outcome in decision.outcomes],
        )
        settings.warehouse_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with connect_warehouse(settings.warehouse_path) as conn:
                record_publication(conn, record)
        except Exception as error:
            raise fault_from_exception(error, settings) or error from error
        mirror = postgres_mirror(
            settings.publish_postgres_url, list(settings.publish_postgres_readers)
        )
        try:
            publish_refusal(settings.warehouse_path, settings.reports_path, record, mirror)
        except PostgresPublicationError as error:  # recorded in reports.duckdb; say so, loudly
            step_failures.append(str(error))
        publication = _recorded_publication(settings, run_id) or {}
    publication["path"] = str(settings.reports_path)
    publication["failures"] = step_failures + [
        CheckOutcome(**check).failure()
        for check in publication.get("checks", [])
        if check.get("blocking") and not check.get("passed")
    ]
    code = 0 if publication.get("status") == "published" else 1
    return code, publication
