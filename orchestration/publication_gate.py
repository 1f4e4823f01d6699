"""May we publish? The publication gate: every blocking check of this build ran and passed.

The one place that decides. It reads what the run actually did (its asset check evaluations in
the Dagster event log), lists what must have run (every blocking check on an asset upstream of
the publication), adds its own blocking check (never replace reports that had rows with
all-empty marts), and decides. A required check with no outcome counts as failed: publication
never depends on Dagster skipping a step. What is then written, a publication or a refusal, is
orchestration/publishing.py's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb
from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph

from data_checks.outcome import CheckOutcome
from orchestration.settings import connect_duckdb

PUBLISHED_KEY = dg.AssetKey(["published", "reports"])
EMPTIED_MARTS_CHECK = "published/reports:not_all_marts_emptied"

MAX_LISTED_FAILURES = 12  # failing checks listed one by one in a refusal; the rest are counted


# --- the decision ------------------------------------------------------------------------------


def not_run_summary(not_run: list[str]) -> str:
    """One line for the blocking checks that did not run (their step, or one upstream, failed)."""
    assets = sorted({check.split(":", 1)[0] for check in not_run})
    shown = ", ".join(assets[:5]) + (f" and {len(assets) - 5} more" if len(assets) > 5 else "")
    return (
        f"{len(not_run)} blocking check{'s' if len(not_run) != 1 else ''} did not run in this "
        f"build (a step upstream failed or was skipped), on {shown}"
    )


@dataclass
class GateDecision:
    passed: bool
    failed: list[CheckOutcome] = field(default_factory=list)  # blocking checks that failed
    not_run: list[str] = field(default_factory=list)  # required checks with no outcome
    outcomes: list[CheckOutcome] = field(default_factory=list)

    @property
    def failures(self) -> list[str]:
        """One line per failing check, then one line for every check that did not run."""
        lines = [outcome.failure() for outcome in self.failed]
        return lines + ([not_run_summary(self.not_run)] if self.not_run else [])

    def summary(self) -> str:
        if self.passed:
            blocking = sum(1 for o in self.outcomes if o.blocking)
            return f"all {blocking} blocking checks passed"
        return refusal_reason(self)


def refusal_reason(decision: GateDecision, step_failures: list[str] | tuple = ()) -> str:
    """Why a build was not published, readable on one screen.

    The failing checks first (with failing row counts and a few example keys), at most
    MAX_LISTED_FAILURES of them; then the failed steps; then one line for the checks that did
    not run because something upstream failed.
    """
    counts = [
        f"{len(decision.failed)} blocking check{'s' if len(decision.failed) != 1 else ''} failed"
    ]
    if step_failures:
        counts.append(f"{len(step_failures)} step{'s' if len(step_failures) != 1 else ''} failed")
    if decision.not_run:
        counts.append(f"{len(decision.not_run)} did not run")
    lines = ["publication refused: " + ", ".join(counts)]
    listed = decision.failed[:MAX_LISTED_FAILURES]
    lines += [f"- {outcome.failure()}" for outcome in listed]
    if len(decision.failed) > len(listed):
        lines.append(f"- and {len(decision.failed) - len(listed)} more failing checks")
    lines += [f"- {failure}" for failure in step_failures]
    if decision.not_run:
        lines.append(f"- {not_run_summary(decision.not_run)}")
    return "\n".join(lines)


def decide(required_checks: set[str], outcomes: list[CheckOutcome]) -> GateDecision:
    """Decide publication from the required (blocking) checks and the outcomes of this build."""
    latest = {outcome.check: outcome for outcome in outcomes}
    not_run = sorted(check for check in required_checks if check not in latest)
    failed = [
        outcome
        for outcome in latest.values()
        if not outcome.passed and (outcome.blocking or outcome.check in required_checks)
    ]
    failed.sort(key=lambda outcome: (-(outcome.failing_rows or 0), outcome.check))
    return GateDecision(
        passed=not failed and not not_run,
        failed=failed,
        not_run=not_run,
        outcomes=list(latest.values()),
    )


# --- what the run did: its check outcomes, and the checks it had to run ------------------------


def check_name(key: dg.AssetCheckKey) -> str:
    return f"{key.asset_key.to_user_string()}:{key.name}"


def required_blocking_checks(asset_graph: BaseAssetGraph, target: dg.AssetKey) -> set[str]:
    """Every blocking check defined on an asset upstream of `target`."""
    upstream = set(asset_graph.get_ancestor_asset_keys(target))
    required = set()
    for key in asset_graph.asset_check_keys:
        if key.asset_key in upstream and asset_graph.get_check_spec(key).blocking:
            required.add(check_name(key))
    return required


def _metadata_value(metadata, name):
    value = metadata.get(name)
    return getattr(value, "value", value)


def check_outcomes(instance: dg.DagsterInstance, run_id: str) -> list[CheckOutcome]:
    """The asset check evaluations recorded in this run, in order."""
    records = instance.get_records_for_run(
        run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION, limit=100_000
    ).records
    outcomes = []
    for record in records:
        evaluation = record.event_log_entry.dagster_event.event_specific_data
        metadata = evaluation.metadata or {}
        failing = _metadata_value(metadata, "failing_rows") or _metadata_value(
            metadata, "dagster_dbt/failed_row_count"
        )
        outcomes.append(
            CheckOutcome(
                check=check_name(evaluation.asset_check_key),
                passed=evaluation.passed,
                severity=evaluation.severity.value,
                blocking=bool(evaluation.blocking),
                description=evaluation.description,
                failing_rows=int(failing) if failing is not None else None,
                examples=_metadata_value(metadata, "examples"),
            )
        )
    return outcomes


def decide_for_run(
    instance: dg.DagsterInstance, run_id: str, asset_graph: BaseAssetGraph
) -> GateDecision:
    """The checks' verdict on `run_id`: every blocking check upstream of the publication."""
    required = required_blocking_checks(asset_graph, PUBLISHED_KEY)
    return decide(required, check_outcomes(instance, run_id))


# --- the gate's own check: never blank reports that had rows -----------------------------------
#
# A build whose every mart is empty, while the current publication has rows, is a lost landing
# zone or a wiped warehouse, not a quiet day: publishing it would blank every dashboard. The
# previous publication stays; the refusal names this check.


def published_rows(reports_path: Path) -> int:
    """Rows in the published marts (every table of reports.duckdb but `publications`)."""
    if not reports_path.exists():
        return 0
    with connect_duckdb(reports_path, read_only=True) as conn:
        tables = [
            name
            for (name,) in conn.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' "
                "and table_name != 'publications'"
            ).fetchall()
        ]
        return sum(conn.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables)


def built_mart_rows(warehouse: duckdb.DuckDBPyConnection, schema: str = "marts") -> dict[str, int]:
    tables = [
        name
        for (name,) in warehouse.execute(
            "select table_name from duckdb_tables() where schema_name = ?", [schema]
        ).fetchall()
    ]
    return {
        table: warehouse.execute(f'select count(*) from {schema}."{table}"').fetchone()[0]
        for table in tables
    }


def emptied_marts_outcome(built: dict[str, int], previously_published: int) -> CheckOutcome:
    emptied = bool(built) and previously_published > 0 and not any(built.values())
    return CheckOutcome(
        check=EMPTIED_MARTS_CHECK,
        passed=not emptied,
        severity="ERROR",
        blocking=True,
        description=(
            f"every one of the {len(built)} marts of this build is empty while the current "
            f"publication has {previously_published:,} rows (a missing landing zone or a wiped "
            "warehouse?); the previous publication is kept"
            if emptied
            else "the build has rows, or nothing with rows was published before"
        ),
    )


# --- the whole answer, as the publish step asks it ---------------------------------------------


def decide_publication(
    instance: dg.DagsterInstance,
    run_id: str,
    asset_graph: BaseAssetGraph,
    warehouse: duckdb.DuckDBPyConnection,
    reports_path: Path,
) -> GateDecision:
    """May `run_id` publish the marts of `warehouse` over the publication at `reports_path`?"""
    decision = decide_for_run(instance, run_id, asset_graph)
    emptied = emptied_marts_outcome(built_mart_rows(warehouse), published_rows(reports_path))
    decision.outcomes.append(emptied)
    if not emptied.passed:
        decision.passed = False
    return decision
