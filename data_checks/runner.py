"""Run every data check against the warehouse and report one `CheckResult` per check.

`declared_checks` lists the checks statically (for Dagster specs); `run_suites` opens the
warehouse read-only, discovers the marts and staged tables, validates the suites and the metric
checks, and returns the results.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from data_checks.metrics import FEED_FRESHNESS, METRIC_CHECKS, MetricCheck
from data_checks.outcome import CheckOutcome
from data_checks.settings import CheckSettings
from data_checks.suites import (
    KEYED_TABLES,
    SuiteCheck,
    declared_key_check_names,
    declared_mart_check_names,
    key_checks,
    mart_checks,
    mask_personal_data,
    pii_column_names,
)
from data_checks.validation import ExpectationOutcome, quote, validate_relation
from orchestration.settings import connect_duckdb

MAX_EXAMPLES = 5
CheckKey = tuple[tuple[str, ...], str]  # (asset key path, check name)


@dataclass(frozen=True)
class CheckResult:
    asset_key: list[str]
    check_name: str
    passed: bool
    severity: str  # "ERROR" | "WARN"
    blocking: bool
    failing_rows: int
    examples: str
    description: str

    @property
    def key(self) -> CheckKey:
        return tuple(self.asset_key), self.check_name

    def as_outcome(self) -> CheckOutcome:
        return CheckOutcome(
            check=f"{'/'.join(self.asset_key)}:{self.check_name}",
            passed=self.passed,
            severity=self.severity,
            blocking=self.blocking,
            description=self.description,
            failing_rows=self.failing_rows,
            examples=self.examples or None,
        )


@dataclass(frozen=True)
class DeclaredCheck:
    asset_key: tuple[str, ...]
    name: str
    blocking: bool
    description: str = ""

    @property
    def key(self) -> CheckKey:
        return self.asset_key, self.name


def declared_checks(
    marts: Iterable[str],
    keyed_tables: Iterable[tuple[str, str]] = tuple(KEYED_TABLES),
    settings: CheckSettings | None = None,
) -> list[DeclaredCheck]:
    """Every check, known without opening the warehouse (the Dagster specs)."""
    settings = settings or CheckSettings()
    declared = [
        DeclaredCheck(("marts", mart), name, True, f"Great Expectations: {name[3:]}")
        for mart in sorted(marts)
        for name in declared_mart_check_names(mart)
    ]
    declared += [
        DeclaredCheck(table, name, True, f"Great Expectations: {name[3:]}")
        for table in sorted(keyed_tables)
        for name in declared_key_check_names(table)
    ]
    declared += [
        DeclaredCheck(
            key,
            name,
            blocking=_metric_severity(name, settings) == "ERROR",
            description=f"Great Expectations on a DuckDB aggregate: {name[3:]}",
        )
        for name, (key, _) in METRIC_CHECKS.items()
    ]
    return declared


def _metric_severity(name: str, settings: CheckSettings) -> str:
    return "WARN" if name == FEED_FRESHNESS and not settings.freshness_blocking else "ERROR"


def _tables(conn: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], dict[str, str]]:
    rows = conn.sql(
        """
        select table_schema, table_name, column_name, data_type
        from information_schema.columns
        where table_schema in ('marts', 'staging', 'facts', 'intermediate', 'audit')
        order by table_schema, table_name, ordinal_position
        """
    ).fetchall()
    tables: dict[tuple[str, str], dict[str, str]] = {}
    for schema, table, column, data_type in rows:
        tables.setdefault((schema, table), {})[column] = data_type
    return tables


def _examples(outcomes: list[ExpectationOutcome], mask: bool) -> str:
    items = []
    for outcome in outcomes:
        if outcome.success:
            continue
        if outcome.error:
            items.append(f"{outcome.target}: {outcome.expectation} raised {outcome.error}")
        items += [f"{outcome.target}: {example}" for example in outcome.examples]
    text = "; ".join(items[:MAX_EXAMPLES])
    return mask_personal_data(text) if mask else text


def _result(
    key: tuple[str, ...],
    name: str,
    passed: bool,
    severity: str,
    failing_rows: int,
    examples: str,
    description: str,
) -> CheckResult:
    return CheckResult(
        asset_key=list(key),
        check_name=name,
        passed=passed,
        severity=severity,
        blocking=severity == "ERROR",
        failing_rows=failing_rows,
        examples=examples,
        description=description,
    )


def _run_table_checks(
    conn: duckdb.DuckDBPyConnection, checks: list[SuiteCheck], columns: dict[str, str]
) -> list[CheckResult]:
    """Validate the suite checks of one table inside DuckDB: one query for all their rows'
    expectations, one for their column-name expectations."""
    if not checks:
        return []
    schema, table = checks[0].asset_key
    relation = f"{quote(schema)}.{quote(table)}"
    row_outcomes = validate_relation(
        conn, relation, [e for check in checks for e in check.expectations], list(columns)
    )
    names = ", ".join(_sql_string(c) for c in pii_column_names(table, columns)) or "null"
    name_outcomes = validate_relation(
        conn,
        f"(select unnest([{names}]::varchar[]) as column_name)",
        [e for check in checks for e in check.column_name_expectations],
        ["column_name"],
    )
    results = []
    for check in checks:
        outcomes = row_outcomes[: len(check.expectations)]
        row_outcomes = row_outcomes[len(check.expectations) :]
        outcomes += name_outcomes[: len(check.column_name_expectations)]
        name_outcomes = name_outcomes[len(check.column_name_expectations) :]
        results.append(
            _result(
                check.asset_key,
                check.name,
                all(o.success for o in outcomes),
                check.severity,
                sum(o.unexpected_count for o in outcomes),
                _examples(outcomes, check.mask_examples),
                check.description,
            )
        )
    return results


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _run_metric(conn: duckdb.DuckDBPyConnection, metric: MetricCheck) -> CheckResult:
    """Validate the metric's expectation on its aggregate (a few rows computed in DuckDB)."""
    conn.register("_metric_aggregate", metric.frame)
    try:
        (outcome,) = validate_relation(
            conn, "_metric_aggregate", [metric.expectation], list(metric.frame.columns)
        )
    finally:
        conn.unregister("_metric_aggregate")
    examples = "; ".join(metric.examples[:MAX_EXAMPLES])
    if outcome.error:
        examples = f"{outcome.expectation} raised {outcome.error}"
    return _result(
        metric.asset_key,
        metric.name,
        outcome.success,
        metric.severity,
        metric.failing_rows,
        examples,
        metric.description,
    )


def run_suites(
    warehouse_path: str | Path,
    settings: CheckSettings | None = None,
    *,
    checks: Iterable[CheckKey] | None = None,
) -> list[CheckResult]:
    """Run the checks on the warehouse (opened read-only).

    `checks=None` runs every check whose table exists. Given a set of (asset key path, check
    name), runs exactly those, and a check whose table is missing (or errors) fails.
    """
    settings = settings or CheckSettings()
    wanted = None if checks is None else {(tuple(key), name) for key, name in checks}
    results: list[CheckResult] = []
    with connect_duckdb(warehouse_path, read_only=True) as conn:
        tables = _tables(conn)

        planned: dict[tuple[str, str], list[SuiteCheck]] = {}
        for (schema, table), columns in tables.items():
            if schema == "marts":
                planned[(schema, table)] = mart_checks(table, columns)
            elif (schema, table) in KEYED_TABLES:
                planned[(schema, table)] = key_checks((schema, table))
        for (schema, table), table_checks in sorted(planned.items()):
            selected = [
                c for c in table_checks if wanted is None or (c.asset_key, c.name) in wanted
            ]
            results += _run_table_checks(conn, selected, tables[(schema, table)])

        for name, (key, compute) in METRIC_CHECKS.items():
            if wanted is not None and (key, name) not in wanted:
                continue
            if wanted is None and key not in tables:
                continue
            try:
                results.append(_run_metric(conn, compute(conn, settings)))
            except duckdb.Error as exc:
                severity = _metric_severity(name, settings)
                results.append(_result(key, name, False, severity, 0, str(exc), "check errored"))

    if wanted is not None:
        ran = {result.key for result in results}
        for key, name in sorted(wanted - ran):
            severity = _metric_severity(name, settings) if name in METRIC_CHECKS else "ERROR"
            missing = f"{'.'.join(key)} is not in the warehouse"
            results.append(_result(key, name, False, severity, 0, "", missing))
    return results
