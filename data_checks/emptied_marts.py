"""A blocking check of the publication gate: never replace reports that had rows with all-empty
marts.

A build whose every mart is empty, while the current publication has rows, is a lost landing
zone or a wiped warehouse, not a quiet day: publishing it would blank every dashboard. The
previous publication stays; the refusal names this check.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from data_checks.gate import CheckOutcome, GateDecision
from orchestration.settings import connect_duckdb

CHECK = "published/reports:not_all_marts_emptied"


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
        check=CHECK,
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


def add_to_decision(decision: GateDecision, outcome: CheckOutcome) -> GateDecision:
    """The gate's decision with this check's outcome added."""
    decision.outcomes.append(outcome)
    if not outcome.passed:
        decision.passed = False
        decision.failures.append(outcome.failure())
    return decision
