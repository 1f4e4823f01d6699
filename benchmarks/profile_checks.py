"""Profile the data checks (data_checks/) on a built warehouse: seconds per table and per metric.

Runs what `run_suites` runs, table by table, and prints a markdown table of the slowest first,
with the table's rows, so that the profile says where the checks' time goes.
benchmarks/checks_profile.md keeps the results.

Usage: .venv/bin/python benchmarks/profile_checks.py WAREHOUSE.duckdb
(to profile another version of data_checks/, put its parent folder first on PYTHONPATH)
"""

from __future__ import annotations

import inspect
import sys
import time

import duckdb

from data_checks import runner
from data_checks.metrics import METRIC_CHECKS
from data_checks.settings import CheckSettings
from data_checks.suites import KEYED_TABLES, key_checks, mart_checks
from data_checks.validation import gxe


def main(warehouse: str) -> None:
    settings = CheckSettings()
    timings: list[tuple[float, float, str, int, int]] = []
    started, started_cpu = time.perf_counter(), time.process_time()
    gxe()  # importing GX takes seconds: time it apart
    gx_import = (time.perf_counter() - started, time.process_time() - started_cpu)
    with duckdb.connect(warehouse, read_only=True) as conn:
        tables = runner._tables(conn)
        for (schema, table), columns in sorted(tables.items()):
            if schema == "marts":
                checks = mart_checks(table, columns)
            elif (schema, table) in KEYED_TABLES:
                checks = key_checks((schema, table))
            else:
                continue
            rows = conn.sql(f'select count(*) from "{schema}"."{table}"').fetchall()[0][0]
            start, cpu = time.perf_counter(), time.process_time()
            results = runner._run_table_checks(conn, checks, columns)
            seconds = time.perf_counter() - start
            failed = sum(not r.passed for r in results)
            timings.append((seconds, time.process_time() - cpu, f"{schema}.{table}", rows, failed))
        takes_conn = len(inspect.signature(runner._run_metric).parameters) == 2
        for name, (_key, compute) in METRIC_CHECKS.items():
            start, cpu = time.perf_counter(), time.process_time()
            metric = compute(conn, settings)
            result = runner._run_metric(conn, metric) if takes_conn else runner._run_metric(metric)
            seconds = time.perf_counter() - start
            timings.append((seconds, time.process_time() - cpu, name, 0, int(not result.passed)))
    total = (time.perf_counter() - started, time.process_time() - started_cpu)
    print("| table or metric | rows | wall s | CPU s | failed checks |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for seconds, cpu, what, rows, failed in sorted(timings, reverse=True):
        print(f"| {what} | {rows:,} | {seconds:.2f} | {cpu:.2f} | {failed} |")
    print(f"| (importing GX) | | {gx_import[0]:.2f} | {gx_import[1]:.2f} | |")
    print(f"| **total** | | **{total[0]:.2f}** | **{total[1]:.2f}** | |")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__.strip().splitlines()[-2], file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1])
