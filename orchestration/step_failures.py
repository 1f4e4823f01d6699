"""Say why a run's steps failed: the failing dbt model and dbt's error, not only the step name.

dagster-dbt fails a step with "the dbt CLI process ... failed with exit code 1" and leaves the
reason in the compute logs. dbt writes it to `run_results.json` (one result per node, with its
status and message) in the data folder's dbt target (`<CW_DATA_DIR>/dbt/target/`, see
orchestration/assets/dbt.py), which is where we read it right after the run: a failed dbt step
stops the later ones, so the last dbt invocation there is the failed one.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dagster as dg

# A data test that finds failing rows is a failed check, reported with the checks (the gate);
# here: nodes that could not be built or run at all.
DBT_ERROR_STATUSES = ("error", "runtime error")
MAX_MESSAGE = 400


def run_target_path(run_id: str) -> Path:
    """dbt's target folder of the data folder the run wrote (one for every run)."""
    from orchestration.settings import Settings

    return Settings.from_env().dbt_target_dir


def dbt_errors(run_id: str) -> list[str]:
    """`<resource type> <name>: <dbt's message>` for every node dbt could not build in this run."""
    path = run_target_path(run_id) / "run_results.json"
    try:
        results = json.loads(path.read_text()).get("results", [])
    except (OSError, ValueError):
        return []
    errors = []
    for result in results:
        if str(result.get("status", "")).lower() not in DBT_ERROR_STATUSES:
            continue
        kind, _, name = str(result.get("unique_id", "?")).partition(".")
        name = name.split(".", 1)[-1] if "." in name else name
        message = " ".join(str(result.get("message") or "no message").split())
        errors.append(f"{kind} {name}: {message[:MAX_MESSAGE]}")
    return errors


def _error_chain(error) -> Iterator[str]:
    while error is not None:
        yield error.message or ""
        error = error.cause or error.context


def describe_failed_steps(instance: dg.DagsterInstance, run_id: str) -> tuple[list[str], list[str]]:
    """One line per failed step (naming failed dbt nodes and their errors) and the raw error
    texts of the failures (for the storage-fault check)."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.STEP_FAILURE, limit=10_000
    ).records
    lines: list[str] = []
    texts: list[str] = []
    dbt_reported = False
    for record in records:
        step = record.event_log_entry.step_key or "?"
        data = record.event_log_entry.dagster_event.event_specific_data
        error = getattr(data, "error", None)
        chain = [text for text in _error_chain(error) if text]
        texts += chain
        errors = [] if dbt_reported else dbt_errors(run_id)
        if step.startswith("dbt_") and errors:
            dbt_reported = True
            texts += errors
            lines += [f"step {step} failed: {error}" for error in errors]
        elif step.startswith("dbt_") or not chain:
            lines.append(f"step {step} failed")
        else:
            first = " ".join(chain[0].split())
            lines.append(f"step {step} failed: {first[:MAX_MESSAGE]}")
    return lines, texts
